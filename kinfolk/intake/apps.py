from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kinfolk.intake"
    label = "intake"
    verbose_name = "Hotline intake"

    def ready(self) -> None:
        from kinfolk.intake.policy import intake_policy

        intake_policy()  # validated at start-up: a bad rule stops the process with its name
