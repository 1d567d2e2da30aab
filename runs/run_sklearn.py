"""Train a scikit-learn support vector regressor as an executor task.

Name it as a task's run command, ``python runs/run_sklearn.py``, with ``model`` set to
``svr`` or ``linear_svr``; every other key of the task's config is passed to the
estimator (for example ``{"C": 2.0}``). The task needs no command-line arguments: it reads
its data and config through ``get_info()``, saves the fitted estimator as ``sk_model.pkl``
in its workplace, and reports mae and mse on the validation data when the task has some,
else on its training data.

It needs only numpy, scikit-learn and executor.
"""

import os
import pickle

from sklearn.svm import SVR, LinearSVR

from executor import get_info, report
from executor.metrics import compute_metrics

ESTIMATORS = {"svr": SVR, "linear_svr": LinearSVR}
MODEL_FILE = "sk_model.pkl"


def main() -> None:
    info = get_info()
    kwargs = dict(info.kwargs)
    x, y, x_cv, y_cv = info.data_list

    # model
    model = kwargs.pop("model")
    if model not in ESTIMATORS:
        raise SystemExit(f"run_sklearn.py trains {sorted(ESTIMATORS)}, not {model!r}")
    sk_model = ESTIMATORS[model](**kwargs)

    # train & save
    sk_model.fit(x, y.ravel())
    with open(os.path.join(info.workplace, MODEL_FILE), "wb") as stream:
        pickle.dump(sk_model, stream)

    # report
    x_eval, y_eval = (x, y) if x_cv is None else (x_cv, y_cv)
    predictions = sk_model.predict(x_eval).reshape([-1, 1])
    report(compute_metrics(["mae", "mse"], y_eval.reshape([-1, 1]), predictions))


if __name__ == "__main__":
    main()
