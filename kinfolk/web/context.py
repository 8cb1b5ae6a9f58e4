from typing import Any

from django.http import HttpRequest

from kinfolk.core import access
from kinfolk.core.policy import get_policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"agency_name": get_policy().agency_name}
    perms = access.permissions(user)
    links = [("web:home", "Home")]
    if "person.search" in perms:
        links.append(("web:people", "People"))
    if "person.merge" in perms:
        links.append(("web:person-duplicates", "Duplicates"))
    if "report.create" in perms:
        links.append(("intake:new", "New report"))
    if "report.approve" in perms or "report.assign" in perms:
        links.append(("intake:queue", "Live queue"))
    if "report.view" in perms:
        links.append(("intake:list", "Open reports"))
    if "audit.view" in perms:
        links.append(("web:audit", "Audit trail"))
    if "user.manage" in perms:
        links.append(("web:users", "Users"))
    return {"agency_name": get_policy().agency_name, "nav_links": links, "perms": perms}
