"""Quality rules without Spark: the spec's validation, the results from the aggregate's rows, the error."""

import pytest

from lakepipe.quality import (
    QualityError,
    RuleResult,
    emit_failed_rule_metrics,
    evaluate,
    raise_on_errors,
    rule_name,
)
from lakepipe.spec import SpecError, parse_spec

BASE = {"name": "entities", "raw_prefix": "in/e/", "target": "glue", "database": "lake", "table": "entities"}


def spec_with(*rules):
    return parse_spec({**BASE, "quality_rules": list(rules)})


def test_rules_default_to_error_and_get_names():
    spec = spec_with({"type": "not_null", "column": "value"}, {"type": "unique", "severity": "warn"},
                     {"name": "sane", "type": "value_range", "min": 0})
    assert [(rule_name(r), r["severity"]) for r in spec.quality_rules] == [
        ("not_null_value", "error"), ("unique", "warn"), ("sane", "error")]
    assert parse_spec({**BASE}).quality_rules == ()  # existing specs: no rules


@pytest.mark.parametrize("rule, message", [
    ({"type": "not_null"}, "needs column"),
    ({"type": "accepted_values", "column": "key"}, "needs values"),
    ({"type": "regex", "column": "key"}, "needs pattern"),
    ({"type": "value_range"}, "needs min or max"),
    ({"type": "row_count"}, "needs min or max"),
    ({"type": "max_reject_ratio", "max": 1.5}, "between 0 and 1"),
    ({"type": "not_null", "column": "amount"}, "'amount' is not a column of the dataset"),
    ({"type": "not_null", "column": "value", "severity": "fatal"}, "is not one of"),
    ({"type": "median", "column": "value"}, "is not one of"),
    ({"type": "not_null", "column": "value", "colour": "red"}, "unknown property 'colour'"),
    ({"type": "accepted_values", "column": "key", "values": []}, "at least 1 items"),
])
def test_invalid_rules_are_refused(rule, message):
    with pytest.raises(SpecError, match=message):
        spec_with(rule)


def test_rule_names_must_be_unique():
    with pytest.raises(SpecError, match="rule names must be unique"):
        spec_with({"type": "not_null", "column": "value"}, {"type": "not_null", "column": "value", "severity": "warn"})


def test_results_from_the_aggregate_rows():
    spec = spec_with({"type": "not_null", "column": "value", "severity": "warn"},
                     {"type": "row_count", "min": 5, "max": 10},
                     {"type": "max_reject_ratio", "max": 0.2},
                     {"type": "unique", "severity": "warn"})
    # two partitions: 100 lines before partition 1; positions are indexes within the partition
    rows = [{"_lp_pid": 0, "_q0_n": 2, "_q0_at": [3, 7], "_q3_n": 0, "_q3_at": []},
            {"_lp_pid": 1, "_q0_n": 4, "_q0_at": [0, 1, 2, 9], "_q3_n": 1, "_q3_at": [5]}]
    results = evaluate(spec, rows, {0: 0, 1: 100}, rows_read=20, rows_loaded=12, rows_rejected=5)
    by_rule = {r.rule: r for r in results}
    assert by_rule["not_null_value"].failing_rows == 6
    assert by_rule["not_null_value"].sample_lines == [4, 8, 101, 102, 103]  # the first five, as line numbers
    assert by_rule["row_count"].failing_rows == 1 and "12 rows loaded" in by_rule["row_count"].detail
    assert by_rule["max_reject_ratio"].failing_rows == 1 and "5 of 20" in by_rule["max_reject_ratio"].detail
    assert by_rule["unique"].sample_lines == [106] and not by_rule["unique"].passed
    ok = evaluate(spec, rows, {0: 0, 1: 100}, rows_read=20, rows_loaded=8, rows_rejected=4)
    assert [r.passed for r in ok[1:3]] == [True, True]


def test_error_failures_name_rule_count_and_lines_warn_does_not_raise():
    warn = RuleResult("not_null_value", "not_null", "warn", False, 3, [4, 8], "value is empty")
    raise_on_errors([warn], "s3://b/k.csv")
    error = RuleResult("accepted_values_key", "accepted_values", "error", False, 2, [2, 9], "key is not one of ['a']")
    with pytest.raises(QualityError) as e:
        raise_on_errors([warn, error], "s3://b/k.csv")
    assert str(e.value) == ("s3://b/k.csv: rule accepted_values_key (accepted_values) failed for 2 row(s), e.g. lines "
                            "[2, 9]: key is not one of ['a']; nothing was loaded")
    assert e.value.results == [warn, error]


def test_one_metric_per_failed_rule():
    class CloudWatch:
        def __init__(self):
            self.calls = []

        def put_metric_data(self, **kw):
            self.calls.append(kw)

    cw = CloudWatch()
    results = [RuleResult("a", "not_null", "warn", False, 3), RuleResult("b", "unique", "error", True, 0),
               RuleResult("c", "row_count", "error", False, 1)]
    assert emit_failed_rule_metrics("lakepipe/dev", "entities", results, cw)
    (call,) = cw.calls
    assert call["Namespace"] == "lakepipe/dev"
    assert [(d["MetricName"], d["Value"], d["Dimensions"]) for d in call["MetricData"]] == [
        ("QualityRuleFailedRows", 3.0, [{"Name": "Dataset", "Value": "entities"}, {"Name": "Rule", "Value": "a"}]),
        ("QualityRuleFailedRows", 1.0, [{"Name": "Dataset", "Value": "entities"}, {"Name": "Rule", "Value": "c"}])]
    assert not emit_failed_rule_metrics(None, "entities", results, cw)  # no namespace: nothing put
