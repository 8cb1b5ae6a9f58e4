"""factory_boy factories for the records tests need in bulk."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from kinfolk.people.models import Person
from kinfolk.people.search import keys_for


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=0, maximum_age=17)
    sex = factory.Iterator(["1", "2"])
    org_unit = None  # always given by the test: where the record lies is the point

    @factory.post_generation
    def search_keys(obj: Person, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805
        keys = keys_for(obj.first_name, obj.last_name)
        obj.search_first, obj.search_last = keys.first, keys.last
        obj.search_first_key, obj.search_last_key = keys.first_key, keys.last_key
        if create:
            obj.save(
                update_fields=["search_first", "search_last", "search_first_key", "search_last_key"]
            )
