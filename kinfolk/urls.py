from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

api_v1 = [
    path("", include(("kinfolk.core.urls", "core"))),
    path("", include(("kinfolk.people.urls", "people"))),
    path("", include(("kinfolk.intake.urls", "intake"))),
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("django-admin/", admin.site.urls),
    path("", include(("kinfolk.intake.page_urls", "intake"))),
    path("", include(("kinfolk.web.urls", "web"))),
]

handler404 = "kinfolk.web.views.not_found"
