import pytest
from django.http import Http404

from units.selectors import get_unit_for_user, roles_at, subtree, units_for_user


def test_ward_official_sees_only_their_ward_subtree(cast):
    seen = set(units_for_user(cast.ward_official).values_list("code", flat=True))
    assert seen == {"27184", "27184-KP01"}


def test_reviewer_sees_district_subtree(cast):
    seen = set(units_for_user(cast.reviewer).values_list("code", flat=True))
    assert seen == {"771", "27184", "27184-KP01"}


def test_admin_sees_whole_tenant_but_not_other_tenant(cast):
    seen = set(units_for_user(cast.admin).values_list("code", flat=True))
    assert "27247-KP01" in seen and "11308" not in seen and "31" not in seen


def test_out_of_scope_and_malformed_ids_are_404(cast):
    with pytest.raises(Http404):
        get_unit_for_user(cast.ward_official, cast.other_ward.public_id)
    with pytest.raises(Http404):
        get_unit_for_user(cast.admin, cast.other_tenant_ward.public_id)
    with pytest.raises(Http404):
        get_unit_for_user(cast.admin, "not-a-uuid")


def test_subtree_is_one_query(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = list(subtree(cast.city).values_list("code", flat=True))
    assert len(codes) == 7


def test_roles_are_inherited_down_the_tree(cast):
    assert roles_at(cast.reviewer, cast.neighbourhood) == {"reviewer"}
    assert roles_at(cast.reviewer, cast.other_ward) == set()


def test_children_sort_naturally(cast):
    from tests.factories import make_unit
    from units.selectors import children_of

    for name in ("Khu phố 10", "Khu phố 2"):
        make_unit(cast.tenant, cast.ward, "khu_pho", name)
    names = list(children_of(cast.ward).values_list("name", flat=True))
    assert names == ["Khu phố 1", "Khu phố 2", "Khu phố 10"]
