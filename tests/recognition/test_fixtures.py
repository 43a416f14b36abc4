from recognition.models import Registration
from recognition.scoring import rule_from_set, score


def test_cycle_fixture_builds_a_scorable_world(cycle):
    assert Registration.objects.filter(tenant=cycle.cast.tenant).count() == 2
    rule = rule_from_set(cycle.points_set)
    keys = [i.key for i in rule.indicators]
    result = score(rule, dict(zip(keys, [40, 30, 10], strict=True)), "normal")
    assert result.total == 80 and result.passed is True
    assert score(rule, dict(zip(keys, [40, 30, 4], strict=True)), "normal").passed is False
