from django.urls import path

from kinfolk.intake import api

urlpatterns = [
    path("reports/", api.ReportListApi.as_view(), name="reports"),
    path("reports/queue/", api.ReportQueueApi.as_view(), name="reports-queue"),
    path("reports/prior-history/", api.PriorHistoryApi.as_view(), name="reports-prior-history"),
    path("reports/drafts/", api.DraftListApi.as_view(), name="reports-drafts"),
    path("reports/drafts/<str:key>/", api.DraftApi.as_view(), name="reports-draft"),
    path("reports/<str:report_id>/", api.ReportDetailApi.as_view(), name="report"),
    path("reports/<str:report_id>/screen/", api.ReportScreenApi.as_view(), name="report-screen"),
    path("reports/<str:report_id>/approve/", api.ReportApproveApi.as_view(), name="report-approve"),
    path(
        "reports/<str:report_id>/send-back/",
        api.ReportSendBackApi.as_view(),
        name="report-send-back",
    ),
    path("reports/<str:report_id>/assign/", api.ReportAssignApi.as_view(), name="report-assign"),
    path("reports/<str:report_id>/close/", api.ReportCloseApi.as_view(), name="report-close"),
    path(
        "reports/<str:report_id>/contacts/", api.ReportContactApi.as_view(), name="report-contacts"
    ),
]
