"""The two roles, Agentes and Supervisores, created by migration 0003_groups."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from tickets.models import CannedResponse, Category, NonWorkingDay, Ticket

QUEUE = reverse("admin:tickets_ticket_changelist")


def perms(group_name):
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "clave-de-prueba-123")


def test_the_migration_gives_agents_ticket_work_but_no_deleting_or_reference_data(db):
    agents = perms("Agentes")
    # add_ticket: a ticket opened on a caller's behalf (issue 14).
    assert {
        "view_ticket",
        "change_ticket",
        "add_ticket",
        "view_category",
        "view_outgoingemail",
    } <= agents
    assert not agents & {
        "delete_ticket",
        "add_category",
        "change_category",
        "change_region",
        "add_user",
    }


def test_the_migration_gives_supervisors_reference_data_and_agents_but_not_deleting_tickets(db):
    supervisors = perms("Supervisores")
    assert perms("Agentes") <= supervisors
    assert {
        "add_category",
        "change_region",
        "delete_cannedresponse",
        "add_regionalcontact",
        "add_nonworkingday",
        "add_user",
        "change_user",
    } <= supervisors
    assert not supervisors & {"delete_ticket", "delete_user", "change_group", "change_permission"}


# --- tickets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_agents_and_supervisors_work_the_queue(client, request, who, ticket):
    client.force_login(request.getfixturevalue(who))
    assert client.get(QUEUE).status_code == 200
    assert client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200


def test_the_admin_home_lists_what_each_role_may_open(client, agent, supervisor):
    client.force_login(agent)
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:tickets_ticket_changelist") in html
    assert reverse("admin:auth_user_changelist") not in html
    client.force_login(supervisor)
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:auth_user_changelist") in html
    assert reverse("admin:tickets_regionalcontact_add") in html


def test_staff_without_a_role_cannot_open_the_queue(client, ticket):
    client.force_login(User.objects.create_user("sinrol", "s@example.org", "x" * 12, is_staff=True))
    assert client.get(QUEUE).status_code == 403


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_agents_and_supervisors_cannot_delete_a_ticket(client, request, who, ticket):
    client.force_login(request.getfixturevalue(who))
    url = reverse("admin:tickets_ticket_delete", args=[ticket.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    actions = client.get(QUEUE).context["action_form"].fields["action"].choices
    assert "delete_selected" not in dict(actions)


def test_a_superuser_can_delete_a_ticket(client, superuser, ticket):
    client.force_login(superuser)
    assert "delete_selected" in dict(
        client.get(QUEUE).context["action_form"].fields["action"].choices
    )
    r = client.post(reverse("admin:tickets_ticket_delete", args=[ticket.pk]), {"post": "yes"})
    assert r.status_code == 302
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


def test_adding_a_ticket_in_admin_is_the_form_for_callers(client, superuser):
    client.force_login(superuser)
    r = client.get(reverse("admin:tickets_ticket_add"))
    assert r.status_code == 200
    assert "Nuevo ticket para un solicitante" in r.content.decode()


def test_staff_without_a_role_cannot_open_a_ticket_for_a_caller(client, db):
    client.force_login(User.objects.create_user("sinrol", "s@example.org", "x" * 12, is_staff=True))
    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 403


# --- reference data --------------------------------------------------------------------------------
def test_an_agent_sees_categories_but_cannot_add_or_edit_them(client, agent):
    client.force_login(agent)
    category = Category.objects.get(name="Convenios")
    assert client.get(reverse("admin:tickets_category_changelist")).status_code == 200
    assert client.get(reverse("admin:tickets_category_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:tickets_category_add"),
            {"name": "Nueva", "position": 5, "is_active": "on"},
        ).status_code
        == 403
    )
    r = client.post(
        reverse("admin:tickets_category_change", args=[category.pk]),
        {"name": "Cambiada", "position": 1},
    )
    assert r.status_code == 403
    category.refresh_from_db()
    assert category.name == "Convenios"
    assert not Category.objects.filter(name="Nueva").exists()


def test_a_supervisor_adds_a_category_that_the_public_form_then_offers(client, supervisor):
    assert "Becas y subsidios" not in client.get(reverse("tickets:submit")).content.decode()
    client.force_login(supervisor)
    r = client.post(
        reverse("admin:tickets_category_add"),
        {"name": "Becas y subsidios", "position": 5, "is_active": "on", "agents": [supervisor.pk]},
    )
    assert r.status_code == 302
    assert list(Category.objects.get(name="Becas y subsidios").agents.all()) == [supervisor]
    client.logout()
    assert "Becas y subsidios" in client.get(reverse("tickets:submit")).content.decode()


def test_an_inactive_category_is_not_offered_on_the_public_form(client, supervisor):
    client.force_login(supervisor)
    client.post(reverse("admin:tickets_category_add"), {"name": "Categoría vieja", "position": 5})
    assert Category.objects.filter(name="Categoría vieja", is_active=False).exists()
    client.logout()
    assert "Categoría vieja" not in client.get(reverse("tickets:submit")).content.decode()


def test_routing_offers_only_staff(client, supervisor):
    User.objects.create_user("solicitante", "sol@example.org", "x" * 12)
    client.force_login(supervisor)
    choices = (
        client.get(reverse("admin:tickets_region_add"))
        .context["adminform"]
        .form.fields["agents"]
        .queryset
    )
    assert "solicitante" not in {u.username for u in choices}
    assert "carla" in {u.username for u in choices}


@pytest.mark.parametrize(
    ("url_name", "data", "model"),
    [
        (
            "admin:tickets_cannedresponse_add",
            {"title": "Saludo", "body": "Hola {nombre}", "is_active": "on"},
            CannedResponse,
        ),
        (
            "admin:tickets_nonworkingday_add",
            {"date": "2026-12-24", "description": "Feriado decretado"},
            NonWorkingDay,
        ),
    ],
)
def test_supervisors_manage_canned_responses_and_extra_days_off_and_agents_do_not(
    client, agent, supervisor, url_name, data, model
):
    client.force_login(agent)
    assert client.post(reverse(url_name), data).status_code == 403
    assert not model.objects.exists()
    client.force_login(supervisor)
    assert client.post(reverse(url_name), data).status_code == 302
    assert model.objects.count() == 1


# --- managing agents ---------------------------------------------------------------------------------
def test_a_supervisor_adds_an_agent(client, supervisor):
    client.force_login(supervisor)
    r = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "nueva",
            "password1": "clave-larga-2026-x",
            "password2": "clave-larga-2026-x",
            "usable_password": "true",
        },
    )
    assert r.status_code == 302
    user = User.objects.get(username="nueva")
    agents = Group.objects.get(name="Agentes")
    r = client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "nueva",
            "first_name": "Nueva",
            "last_name": "Agente",
            "email": "nueva@example.org",
            "is_active": "on",
            "is_staff": "on",
            "groups": [agents.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert r.status_code == 302, r.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.is_staff and list(user.groups.all()) == [agents]


def test_a_supervisor_cannot_make_anyone_a_superuser(client, supervisor, agent):
    client.force_login(supervisor)
    r = client.post(
        reverse("admin:auth_user_change", args=[agent.pk]),
        {
            "username": agent.username,
            "email": agent.email,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert r.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_superuser


def test_a_supervisor_cannot_touch_a_superuser_account(client, supervisor, superuser):
    client.force_login(supervisor)
    assert (
        superuser.username not in client.get(reverse("admin:auth_user_changelist")).content.decode()
    )
    r = client.post(
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
        {"password1": "otra-clave-2026-x", "password2": "otra-clave-2026-x"},
    )
    assert r.status_code == 404
    superuser.refresh_from_db()
    assert superuser.check_password("clave-de-prueba-123")


def test_a_superuser_can_grant_superuser(client, superuser, agent):
    client.force_login(superuser)
    r = client.post(
        reverse("admin:auth_user_change", args=[agent.pk]),
        {
            "username": agent.username,
            "email": agent.email,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert r.status_code == 302
    agent.refresh_from_db()
    assert agent.is_superuser


def test_an_agent_cannot_manage_accounts(client, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
