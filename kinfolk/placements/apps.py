from django.apps import AppConfig


class PlacementsConfig(AppConfig):
    name = "kinfolk.placements"
    label = "placements"
    verbose_name = "Removals and placements"

    def ready(self) -> None:
        from kinfolk.intake import history
        from kinfolk.placements import selectors
        from kinfolk.placements.policy import placement_policy

        placement_policy()  # validated at start-up: a bad code list stops the process
        history.register("current_placements", selectors.current_placement_history)
