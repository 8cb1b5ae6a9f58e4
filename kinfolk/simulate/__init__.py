"""Synthetic child-welfare histories: a county, a state or a nation, with noisy identities.

Django-free. ``output.run(RunConfig(...))`` writes the four federal-shaped tables (see
FEDERAL_TABLES.md), ``persons.csv`` and ``persons_truth.csv`` for identity resolution, and
``simulation.json`` (population and referral counts for rates). ``check.headline_rates(dir)``
reads them back. The model is in ``model.py``, the identity noise in ``identity.py``, every
figure with its source in ``params.yaml``; ``kinfolk simulate`` is the command (``cli.py``).
"""
