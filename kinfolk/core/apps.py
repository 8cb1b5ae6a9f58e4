from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kinfolk.core"
    label = "core"
    verbose_name = "Kinfolk core"

    def ready(self) -> None:
        from kinfolk.core import history, policy, signals  # noqa: F401

        history.build_history_managers_once()

        # Policy is validated at start-up: a malformed file stops the process with a clear message.
        policy.get_policy()
