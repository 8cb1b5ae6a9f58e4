from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "kinfolk.partners"
    label = "partners"
    verbose_name = "Community partners"
