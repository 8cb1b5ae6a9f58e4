from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "kinfolk.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from kinfolk.cases import selectors
        from kinfolk.cases.policy import case_policy
        from kinfolk.intake import history

        case_policy()  # validated at start-up: a bad code list stops the process with its name
        history.register("open_cases", selectors.open_case_history)
