from django.urls import path

from kinfolk.people import api

urlpatterns = [
    path("households/", api.HouseholdListApi.as_view(), name="households"),
    path("households/<str:household_id>/", api.HouseholdDetailApi.as_view(), name="household"),
    path("persons/", api.PersonListApi.as_view(), name="persons"),
    path("persons/duplicates/", api.DuplicateListApi.as_view(), name="person-duplicates"),
    path("persons/merges/", api.MergeListApi.as_view(), name="person-merges"),
    path(
        "persons/merges/<str:merge_id>/unmerge/",
        api.UnmergeApi.as_view(),
        name="person-unmerge",
    ),
    path("persons/<str:person_id>/", api.PersonDetailApi.as_view(), name="person"),
    path("persons/<str:person_id>/history/", api.PersonHistoryApi.as_view(), name="person-history"),
    path(
        "persons/<str:person_id>/addresses/",
        api.PersonAddressApi.as_view(),
        name="person-addresses",
    ),
    path("persons/<str:person_id>/names/", api.PersonNameApi.as_view(), name="person-names"),
    path(
        "persons/<str:person_id>/identifiers/",
        api.PersonIdentifierApi.as_view(),
        name="person-identifiers",
    ),
    path(
        "persons/<str:person_id>/relationships/",
        api.PersonRelationshipApi.as_view(),
        name="person-relationships",
    ),
    path(
        "persons/<str:person_id>/break-glass/",
        api.PersonBreakGlassApi.as_view(),
        name="person-break-glass",
    ),
]
