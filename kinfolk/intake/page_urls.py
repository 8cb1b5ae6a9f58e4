from django.urls import path

from kinfolk.intake import views

urlpatterns = [
    path("intake/new/", views.intake_new, name="new"),
    path("intake/draft/", views.intake_draft, name="draft"),
    path("intake/match/", views.intake_match, name="match"),
    path("intake/history/", views.intake_history, name="history"),
    path("intake/queue/", views.queue, name="queue"),
    path("reports/", views.report_list_page, name="list"),
    path("reports/<str:report_id>/", views.report_page, name="report"),
    path("reports/<str:report_id>/screen/", views.report_screen, name="screen"),
    path(
        "reports/<str:report_id>/screen/preview/",
        views.report_screen_preview,
        name="screen-preview",
    ),
    path("reports/<str:report_id>/approve/", views.report_approve, name="approve"),
    path("reports/<str:report_id>/send-back/", views.report_send_back, name="send-back"),
    path("reports/<str:report_id>/assign/", views.report_assign, name="assign"),
    path("reports/<str:report_id>/contact/", views.report_contact, name="contact"),
    path("reports/<str:report_id>/close/", views.report_close, name="close"),
]
