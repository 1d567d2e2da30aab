import csv
import io
import json
import logging
from types import SimpleNamespace

import numpy as np
import pytest

import executor
from executor.comparison import Comparison
from executor.errors import DataError, InvalidInputError, UnknownNameError
from executor.evaluation import ModelPattern, evaluate

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
X = np.zeros((4, 2))
Y = np.zeros((4, 1))


def constant(value: float) -> ModelPattern:
    """A regression pattern whose predictions are all ``value``: its mae is |value|."""
    return ModelPattern(lambda x: np.full((len(x), 1), value))


class FakePipeline:
    def __init__(self, model: str, value: float, task_type: str = "reg") -> None:
        self.model = model
        self.value = value
        self.task_type = task_type

    def predict(self, x):
        return np.full((len(x), 1), self.value)


class FakeClassifier:
    task_type = "clf"

    def __init__(self, probabilities, classes) -> None:
        self.probabilities = np.asarray(probabilities)
        self.classes_ = np.asarray(classes)

    def predict(self, x):
        return self.classes_[self.probabilities.argmax(axis=1)].reshape(-1, 1)

    def predict_prob(self, x):
        return self.probabilities


def body_rows(table: str) -> dict[str, list[str]]:
    """The cells of each method row of a printed table, by method name."""
    rows = {}
    for line in table.splitlines()[5:]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_mean_std_score_and_marks_with_ties():
    # "steady": mae 2, 2 -> mean 2, std 0, score -2; "shaky": mae 1, 3 -> mean 2, std 1.
    patterns = {"steady": [constant(2), constant(-2)], "shaky": [constant(1), constant(3)]}

    comparison = evaluate(X, Y, ["mae"], other_patterns=patterns, print_table=False)

    steady, shaky = comparison.summary("steady", "mae"), comparison.summary("shaky", "mae")
    assert (steady.mean, steady.std, steady.score, steady.count) == (2.0, 0.0, -2.0, 2)
    assert (shaky.mean, shaky.std, shaky.score) == (2.0, 1.0, -3.0)
    assert comparison.marks()["mae"] == {
        "mean": {"steady", "shaky"},
        "std": {"steady"},
        "score": {"steady"},
    }
    assert comparison.best_methods == {"mae": "steady"}
    assert comparison.raw("shaky", "mae") == [1.0, 3.0]

    rows = body_rows(comparison.table())
    assert rows["shaky"] == ["-- 2.000000 --", "1.000000", "-3.000000"]
    assert rows["steady"] == ["-- 2.000000 --", "-- 0.000000 --", "-- -2.000000 --"]


def test_higher_is_better_metric_marks_the_highest_mean():
    y = np.array([[0], [1], [1], [0]])
    right = ModelPattern(lambda x: y, task_type="clf")
    half = ModelPattern(lambda x: np.array([[0], [0], [1], [1]]), task_type="clf")
    wrong = ModelPattern(lambda x: 1 - y, task_type="clf")

    comparison = evaluate(
        X, y, "acc", other_patterns={"right": right, "half": half, "wrong": wrong}
    )

    assert comparison.task_type == "clf"
    assert comparison.marks()["acc"]["mean"] == {"right"}
    assert comparison.marks()["acc"]["std"] == {"right", "half", "wrong"}
    assert comparison.summary("half", "acc").score == 0.5
    assert comparison.best("acc", by="mean") == "right"


def test_single_method_has_no_marks_and_rows_are_sorted():
    single = evaluate(X, Y, ["mae"], pipelines=FakePipeline("only", 1.0), print_table=False)
    assert body_rows(single.table())["only"] == ["1.000000", "0.000000", "-1.000000"]

    many = evaluate(
        X,
        Y,
        ["mae"],
        pipelines=[FakePipeline("zeta", 1), FakePipeline("alpha", 2), FakePipeline("mid", 3)],
        print_table=False,
    )
    assert list(body_rows(many.table())) == ["alpha", "mid", "zeta"]


def test_numbers_are_rounded_not_cut():
    comparison = Comparison(["mae"], {"a": {"mae": [0.1234567]}, "b": {"mae": [0.9999996]}})

    rows = body_rows(comparison.table())

    assert rows["a"][0] == "-- 0.123457 --"
    assert rows["b"][0] == "1.000000"
    assert rows["b"][2] == "-1.000000"


def test_table_layout_follows_the_reference():
    comparison = Comparison(["mae", "mse"], {"fcnn": {"mae": [0.25], "mse": [0.08]}})
    lines = comparison.table().splitlines()

    assert len({len(line) for line in lines}) == 1
    assert set(lines[0]) == {"="} and set(lines[-1]) == {"="}
    assert set(lines[2]) == {"-"} and set(lines[4]) == {"-"}
    assert lines[1].split("|")[1].strip() == "metrics"
    assert [c.strip() for c in lines[1].split("|")[2:4]] == ["mae", "mse"]
    assert [c.strip() for c in lines[3].split("|")[2:5]] == ["mean", "std", "score"]
    assert lines[1].startswith("|        metrics         |")


def test_printing_only_when_asked(capsys):
    evaluate(X, Y, ["mae"], other_patterns={"a": constant(1)}, print_table=False)
    assert capsys.readouterr().out == ""

    comparison = evaluate(X, Y, ["mae"], other_patterns={"a": constant(1)})
    printed = capsys.readouterr().out
    assert printed.strip() == comparison.table()
    assert str(comparison) == comparison.table()


def test_pipeline_shapes_lists_dicts_and_repeat_results():
    one, two = FakePipeline("fcnn", 1), FakePipeline("fcnn", 3)
    repeat_result = SimpleNamespace(
        pipelines={"fcnn": [one, two], "linear": [FakePipeline("x", 5)]}
    )

    from_list = evaluate(X, Y, ["mae"], pipelines=[one, two], print_table=False)
    from_dict = evaluate(X, Y, ["mae"], pipelines={"mine": [one, two]}, print_table=False)
    from_repeat = evaluate(X, Y, ["mae"], pipelines=repeat_result, print_table=False)

    assert from_list.raw("fcnn", "mae") == [1.0, 3.0]
    assert from_dict.methods == ["mine"]
    assert from_repeat.raw("linear", "mae") == [5.0]
    assert from_repeat.sources == {"fcnn": "pipeline", "linear": "pipeline"}


def test_run_results_use_reported_metrics_when_there_is_no_pipeline():
    succeeded = SimpleNamespace(succeeded=True)
    results = SimpleNamespace(
        workplace_keys=[("fcnn", "0"), ("fcnn", "1"), ("custom", "0"), ("broken", "0")],
        pipelines=[FakePipeline("fcnn", 1), FakePipeline("fcnn", 2), None, None],
        metrics=[{}, {}, {"mae": 0.5, "note": "text", "r2": 0.9}, {"mae": 0.1}],
        outcomes=[succeeded, succeeded, succeeded, SimpleNamespace(succeeded=False)],
    )

    comparison = evaluate(X, Y, ["mae", "mse"], pipelines=results, print_table=False)

    assert comparison.methods == ["custom", "fcnn"]
    assert comparison.raw("custom", "mae") == [0.5]
    assert comparison.summary("custom", "mse") is None
    assert comparison.raw("fcnn", "mse") == [1.0, 4.0]
    assert comparison.sources["custom"] == "reported"
    assert body_rows(comparison.table())["custom"][3:] == ["-", "-", "-"]


def test_reported_metrics_only_need_no_data():
    results = SimpleNamespace(
        workplace_keys=[("svr", "0"), ("svr", "1")],
        pipelines=[None, None],
        metrics=[{"mae": 0.2, "mse": 0.05}, {"mae": 0.4, "mse": 0.15}],
        outcomes=None,
    )

    comparison = evaluate(None, None, pipelines=results, print_table=False)

    assert comparison.metrics == ["mae", "mse"]
    assert comparison.summary("svr", "mae").mean == pytest.approx(0.3)


def test_classifier_with_string_labels_and_probabilities():
    y = np.array([["b"], ["a"], ["c"], ["a"]])
    probabilities = [[0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]]
    classifier = FakeClassifier(probabilities, ["a", "b", "c"])

    comparison = evaluate(X, y, ["acc", "auc", "logloss"], pipelines=classifier, print_table=False)

    assert comparison.raw("FakeClassifier", "acc") == [0.75]
    assert comparison.raw("FakeClassifier", "auc")[0] > 0.8


def test_probability_metric_on_a_pattern_without_probabilities():
    pattern = ModelPattern(lambda x: np.zeros((len(x), 1)), task_type="clf")

    with pytest.raises(InvalidInputError) as caught:
        evaluate(X, np.array([0, 1, 0, 1]), ["acc", "auc"], other_patterns={"sk_svc": pattern})

    assert caught.value.method == "sk_svc"
    assert caught.value.metric == "auc"
    assert "'sk_svc'" in str(caught.value) and "'auc'" in str(caught.value)


def test_bad_inputs():
    pattern = {"a": constant(1)}
    with pytest.raises(UnknownNameError, match="known metrics: acc"):
        evaluate(X, Y, ["nope"], other_patterns=pattern)
    with pytest.raises(InvalidInputError, match="task type"):
        evaluate(X, Y, ["acc"], other_patterns=pattern, task_type="reg")
    with pytest.raises(InvalidInputError, match="nothing to evaluate"):
        evaluate(X, Y)
    with pytest.raises(InvalidInputError, match="both"):
        evaluate(X, Y, pipelines={"a": FakePipeline("a", 1)}, other_patterns=pattern)
    with pytest.raises(InvalidInputError, match="other_patterns must map"):
        evaluate(X, Y, other_patterns=[constant(1)])
    with pytest.raises(InvalidInputError, match="predict"):
        evaluate(X, Y, pipelines=object())
    with pytest.raises(InvalidInputError, match="callable"):
        ModelPattern(predict_method=3)
    with pytest.raises(InvalidInputError, match="x and y"):
        evaluate(None, None, other_patterns=pattern, task_type="reg")


def sample_comparison() -> Comparison:
    values = {
        "linear": {"mae": [0.3, 0.31, 0.29], "r2": [0.5, 0.52, 0.55]},
        "fcnn": {"mae": [0.25, 0.27], "r2": [0.6, 0.58]},
        "custom | svr": {"mae": [0.2], "r2": []},
    }
    return Comparison(["mae", "r2"], values, sources={"linear": "pipeline"}, task_type="reg")


def test_json_round_trip():
    comparison = sample_comparison()

    text = comparison.to_json()
    again = Comparison.from_json(text)

    assert again.values == comparison.values
    assert again.directions == {"mae": False, "r2": True}
    assert again.to_json() == text
    payload = json.loads(text)
    assert payload["best"] == {"mae": "custom | svr", "r2": "fcnn"}
    assert payload["methods"]["fcnn"]["summary"]["mae"]["mean"] == pytest.approx(0.26)
    with pytest.raises(DataError):
        Comparison.from_json('{"format": "other"}')


def test_csv_round_trip():
    comparison = sample_comparison()

    summary_rows = list(csv.DictReader(io.StringIO(comparison.to_csv())))
    raw_rows = list(csv.DictReader(io.StringIO(comparison.to_csv(raw=True))))

    for row in summary_rows:
        summary = comparison.summary(row["method"], row["metric"])
        if summary is None:
            assert row["mean"] == "" and row["repeats"] == "0"
            continue
        assert float(row["mean"]) == summary.mean and float(row["std"]) == summary.std
        assert float(row["score"]) == summary.score and int(row["repeats"]) == summary.count
    rebuilt: dict[str, dict[str, list[float]]] = {
        m: {"mae": [], "r2": []} for m in comparison.methods
    }
    for row in raw_rows:
        rebuilt[row["method"]][row["metric"]].append(float(row["value"]))
    assert rebuilt == comparison.values


def test_markdown_marks_the_best_cells_in_bold():
    lines = sample_comparison().to_markdown().splitlines()

    assert lines[0] == "| method | mae mean | mae std | mae score | r2 mean | r2 std | r2 score |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert "**0.200000**" in rows["custom \\| svr"]
    assert "**0.590000**" in rows["fcnn"]
    assert "**" not in rows["linear"]


@pytest.mark.parametrize("suffix", [".json", ".csv", ".md", ".txt"])
def test_save_chooses_the_format_by_extension(tmp_path, suffix):
    comparison = sample_comparison()

    path = comparison.save(tmp_path / f"out{suffix}")

    text = path.read_text()
    expected = {
        ".json": comparison.to_json(),
        ".csv": comparison.to_csv(),
        ".md": comparison.to_markdown(),
        ".txt": comparison.table(),
    }[suffix]
    assert text.strip() == expected.strip()


def test_save_rejects_an_unknown_extension(tmp_path):
    with pytest.raises(InvalidInputError, match="extension"):
        sample_comparison().save(tmp_path / "out.xlsx")


def test_plot_writes_a_png(tmp_path):
    path = sample_comparison().plot(tmp_path / "nested" / "plot.png")

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert sample_comparison().save(tmp_path / "again.png").read_bytes()[:8] == PNG_SIGNATURE
    assert [p.name for p in (tmp_path / "nested").iterdir()] == ["plot.png"]


def test_public_names():
    assert executor.evaluate is evaluate
    assert executor.ModelPattern is ModelPattern
    assert executor.Comparison is Comparison


def test_the_table_is_logged_even_when_not_printed(caplog):
    caplog.set_level(logging.INFO, logger="executor")

    comparison = evaluate(X, Y, ["mae"], other_patterns={"a": constant(1)}, print_table=False)

    assert comparison.table() in caplog.text


def test_a_method_mixing_pipelines_and_reported_metrics():
    results = SimpleNamespace(
        workplace_keys=[("fcnn", "0"), ("fcnn", "1")],
        pipelines=[FakePipeline("fcnn", 1), None],
        metrics=[{}, {"mae": 3.0}],
        outcomes=None,
    )

    comparison = evaluate(X, Y, ["mae"], pipelines=results, print_table=False)

    assert comparison.raw("fcnn", "mae") == [1.0, 3.0]
    assert comparison.sources == {"fcnn": "pipeline+reported"}


def test_comparison_rejects_values_of_unlisted_metrics():
    with pytest.raises(DataError, match="does not list"):
        Comparison(["mae"], {"a": {"mae": [1.0], "mse": [2.0]}})
    with pytest.raises(InvalidInputError, match="no such method"):
        sample_comparison().raw("nobody", "mae")
