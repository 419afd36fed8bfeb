"""The authentication backend: Django's permissions, read in one query instead of two."""

from django.contrib.auth import get_user
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets.auth_backend import OneQueryModelBackend


def fresh(user):
    # A new object, as each request loads: no permission cache yet.
    return User.objects.get(pk=user.pk)


def test_it_grants_the_groups_permissions_and_the_users_own_in_one_query(db):
    user = User.objects.create_user("dora", is_staff=True)
    group = Group.objects.create(name="Lectores")
    group.permissions.add(Permission.objects.get(codename="view_ticket"))
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="view_category"))
    user = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("tickets.view_ticket")
        assert user.has_perm("tickets.view_category")
        assert not user.has_perm("tickets.change_ticket")
        assert user.has_module_perms("tickets")
    assert len(captured) == 1


def test_it_grants_the_same_as_djangos_own_backend(agent, supervisor, db):
    superuser = User.objects.create_superuser("jefa", "jefa@example.org", "x" * 12)
    for user in (agent, supervisor, superuser):
        ours = OneQueryModelBackend().get_all_permissions(fresh(user))
        djangos = {
            *OneQueryModelBackend().get_user_permissions(fresh(user)),
            *OneQueryModelBackend().get_group_permissions(fresh(user)),
        }
        assert ours == djangos and ours, user


def test_an_inactive_user_has_no_permissions(agent):
    agent.is_active = False
    agent.save()
    assert not fresh(agent).has_perm("tickets.change_ticket")
    assert OneQueryModelBackend().get_all_permissions(fresh(agent)) == set()


def test_a_user_without_groups_or_permissions_has_none(db):
    user = User.objects.create_user("nadie", is_staff=True)
    assert OneQueryModelBackend().get_all_permissions(fresh(user)) == set()


def test_sessions_signed_in_through_it_find_their_user(client, agent):
    client.force_login(agent)
    request = client.get("/").wsgi_request
    assert get_user(request) == agent
    assert request.session["_auth_user_backend"] == "tickets.auth_backend.OneQueryModelBackend"
