"""Tests for minigrad.data: batching, splits, scaling, one-hot labels and bundled datasets."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad.data import (
    DATASETS_DIR,
    Dataset,
    Standardizer,
    batches,
    load_digits,
    load_iris,
    make_moons,
    one_hot,
    standardize,
    train_test_split,
    xor,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "minigrad" / "data"


@pytest.fixture(scope="module")
def iris() -> Dataset:
    return load_iris()


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_digits()


# --- batches ---------------------------------------------------------------------------------


def _toy(n: int = 23):
    X = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    y = np.arange(n)  # y[i] == i, so the labels in a batch tell which samples it holds
    return X, y


def test_batches_cover_every_sample_exactly_once():
    X, y = _toy(23)
    got = list(batches(X, y, batch_size=5, rng=0))
    assert [len(yb) for _, yb in got] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in got])
    assert sorted(seen.tolist()) == list(range(23))
    assert seen.tolist() != list(range(23))  # shuffled
    for Xb, yb in got:  # rows stay paired with their labels
        np.testing.assert_array_equal(Xb, X[yb])


def test_batches_without_shuffle_keep_order():
    X, y = _toy(7)
    got = [yb.tolist() for _, yb in batches(X, y, batch_size=3, shuffle=False)]
    assert got == [[0, 1, 2], [3, 4, 5], [6]]


def test_batches_drop_last_skips_the_short_batch():
    X, y = _toy(23)
    got = list(batches(X, y, batch_size=5, rng=1, drop_last=True))
    assert [len(yb) for _, yb in got] == [5, 5, 5, 5]
    assert len(set(np.concatenate([yb for _, yb in got]).tolist())) == 20
    assert list(batches(X, y, batch_size=30, drop_last=True)) == []


def test_batches_larger_than_data_give_one_batch():
    X, y = _toy(4)
    got = list(batches(X, y, batch_size=100, shuffle=False))
    assert len(got) == 1 and got[0][1].tolist() == [0, 1, 2, 3]


def test_batches_are_reproducible_with_a_seed():
    X, y = _toy(50)
    first = [yb.tolist() for _, yb in batches(X, y, 8, rng=42)]
    again = [yb.tolist() for _, yb in batches(X, y, 8, rng=42)]
    other = [yb.tolist() for _, yb in batches(X, y, 8, rng=43)]
    assert first == again
    assert first != other


def test_batches_with_a_generator_give_a_new_order_each_epoch():
    X, y = _toy(50)
    gen = np.random.default_rng(0)
    epoch1 = np.concatenate([yb for _, yb in batches(X, y, 8, rng=gen)])
    epoch2 = np.concatenate([yb for _, yb in batches(X, y, 8, rng=gen)])
    assert sorted(epoch1.tolist()) == sorted(epoch2.tolist()) == list(range(50))
    assert epoch1.tolist() != epoch2.tolist()


def test_batches_reject_mismatched_lengths_at_call_time():
    X, y = _toy(10)
    with pytest.raises(ValueError, match=r"len\(X\)=10 and len\(y\)=9"):
        batches(X, y[:9], batch_size=2)  # no next(): the check must not wait for iteration


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_batches_reject_bad_batch_size(bad):
    X, y = _toy(10)
    with pytest.raises(ValueError, match=f"batch_size={bad!r}"):
        batches(X, y, batch_size=bad)


def test_batches_reject_a_bad_rng():
    X, y = _toy(10)
    with pytest.raises(TypeError, match="rng must be"):
        batches(X, y, batch_size=2, rng="seed")


# --- train_test_split ------------------------------------------------------------------------


def test_split_sizes_and_sklearn_order():
    X, y = _toy(10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, rng=0)
    assert X_tr.shape == (7, 3) and X_te.shape == (3, 3)
    assert y_tr.shape == (7,) and y_te.shape == (3,)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(10))
    np.testing.assert_array_equal(X_tr, X[y_tr])
    np.testing.assert_array_equal(X_te, X[y_te])


def test_split_fraction_rounds_the_test_part_up():
    X, y = _toy(10)
    assert len(train_test_split(X, y, test_size=0.25, rng=0)[1]) == 3  # 2.5 -> 3
    X, y = _toy(50)
    assert len(train_test_split(X, y, test_size=0.14, rng=0)[1]) == 7  # 0.14 * 50 = 7.0000000001


def test_split_accepts_an_int_count():
    X, y = _toy(10)
    X_tr, X_te, _, _ = train_test_split(X, y, test_size=4, rng=0)
    assert (len(X_tr), len(X_te)) == (6, 4)


def test_split_without_shuffle_takes_the_last_samples_for_test():
    X, y = _toy(10)
    _, _, y_tr, y_te = train_test_split(X, y, test_size=0.2, shuffle=False)
    assert y_tr.tolist() == list(range(8)) and y_te.tolist() == [8, 9]


def test_split_is_reproducible_with_a_seed():
    X, y = _toy(30)
    a = train_test_split(X, y, rng=7)[3]
    b = train_test_split(X, y, rng=7)[3]
    c = train_test_split(X, y, rng=8)[3]
    np.testing.assert_array_equal(a, b)
    assert a.tolist() != c.tolist()


def test_split_stratified_keeps_iris_proportions(iris):
    X_tr, X_te, y_tr, y_te = train_test_split(iris.X, iris.y, test_size=0.2, rng=0, stratify=iris.y)
    assert np.bincount(y_te).tolist() == [10, 10, 10]
    assert np.bincount(y_tr).tolist() == [40, 40, 40]
    assert y_te.tolist() != sorted(y_te.tolist())  # classes are mixed, not in blocks


def test_split_stratified_with_uneven_classes():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100.0)[:, None]
    _, _, y_tr, y_te = train_test_split(X, y, test_size=0.25, rng=3, stratify=y)
    # 25 test samples split 60:30:10 -> 15, 7.5, 2.5: floors 15, 7, 2 and one left over.
    counts = np.bincount(y_te, minlength=3)
    assert counts.sum() == 25
    assert counts[0] == 15 and counts[1] in (7, 8) and counts[2] in (2, 3)
    assert (np.bincount(y_tr, minlength=3) + counts).tolist() == [60, 30, 10]


def test_split_stratified_on_string_labels():
    labels = np.array(["a"] * 8 + ["b"] * 4)
    X, y = _toy(12)
    _, _, _, y_te = train_test_split(X, y, test_size=0.25, rng=0, stratify=labels)
    assert sorted(labels[y_te].tolist()) == ["a", "a", "b"]


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 0, 10, 11])
def test_split_rejects_bad_test_size(bad):
    X, y = _toy(10)
    with pytest.raises(ValueError, match=f"test_size={bad}"):
        train_test_split(X, y, test_size=bad)


def test_split_rejects_mismatched_inputs():
    X, y = _toy(10)
    with pytest.raises(ValueError, match=r"len\(X\)=10 and len\(y\)=8"):
        train_test_split(X, y[:8])
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        train_test_split(X, y, stratify=y[:5])
    with pytest.raises(ValueError, match="shuffle=True"):
        train_test_split(X, y, shuffle=False, stratify=y % 2)


# --- standardize -----------------------------------------------------------------------------


def test_standardize_gives_mean_0_std_1_on_train(iris):
    X_train, X_test = iris.X[::2], iris.X[1::2]
    Z_train, Z_test = standardize(X_train, X_test)
    np.testing.assert_allclose(Z_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z_train.std(axis=0), 1.0, rtol=1e-12)
    # The test part uses the train statistics, not its own.
    expected = (X_test - X_train.mean(axis=0)) / X_train.std(axis=0)
    np.testing.assert_allclose(Z_test, expected, rtol=1e-12)


def test_standardize_does_not_modify_inputs_and_returns_one_array_alone():
    X = np.array([[1.0, 2.0], [3.0, 6.0]])
    before = X.copy()
    Z = standardize(X)
    assert isinstance(Z, np.ndarray)
    np.testing.assert_array_equal(X, before)
    np.testing.assert_allclose(Z, [[-1.0, -1.0], [1.0, 1.0]])


def test_standardize_constant_column_becomes_zero_not_nan():
    X = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]])
    Z, Z_other = standardize(X, np.array([[2.0, 9.0]]))
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[:, 1], 0.0)
    assert Z_other[0, 1] == 2.0  # centred by 7, scale 1


def test_standardize_converts_integers_to_float():
    Z = standardize(np.array([[0], [2], [4]]))
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z.ravel(), [-1.224744871391589, 0.0, 1.224744871391589])


def test_standardizer_fit_transform_and_inverse():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    s = Standardizer()
    Z = s.fit_transform(X)
    assert s.mean_.tolist() == [3.0, 10.0]
    np.testing.assert_allclose(s.std_, [np.sqrt(8 / 3), 1.0])
    np.testing.assert_allclose(s.inverse_transform(Z), X)


def test_standardizer_errors_are_clear():
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform(np.ones((2, 2)))
    s = Standardizer().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(4,\)"):
        s.transform(np.ones((2, 3)))


# --- one_hot ---------------------------------------------------------------------------------


def test_one_hot_basic():
    out = one_hot(np.array([2, 0, 1, 2]))
    assert out.dtype == np.float64 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_one_hot_num_classes_and_shapes():
    assert one_hot([1], num_classes=4).tolist() == [[0.0, 1.0, 0.0, 0.0]]
    assert one_hot(np.array([[0, 1], [1, 0]])).shape == (2, 2, 2)
    assert one_hot(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)
    assert one_hot(np.array([1.0, 0.0])).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_one_hot_errors_are_clear():
    with pytest.raises(ValueError, match=r"num_classes=3\), got values from 0 to 3"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="from -1 to 1"):
        one_hot([-1, 1], num_classes=2)
    with pytest.raises(ValueError, match="integer class labels"):
        one_hot([0.5, 1.0])


# --- datasets --------------------------------------------------------------------------------


def test_iris_shapes_dtypes_and_names(iris):
    assert iris.X.shape == (150, 4) and iris.X.dtype == np.float64
    assert iris.y.shape == (150,) and iris.y.dtype == np.int64
    assert iris.target_names == ("setosa", "versicolor", "virginica")
    assert iris.feature_names == (
        "sepal length (cm)",
        "sepal width (cm)",
        "petal length (cm)",
        "petal width (cm)",
    )
    assert np.bincount(iris.y).tolist() == [50, 50, 50]
    assert iris.y[:50].tolist() == [0] * 50 and iris.y[-50:].tolist() == [2] * 50


def test_iris_known_entries(iris):
    assert iris.X[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    assert iris.X[-1].tolist() == [5.9, 3.0, 5.1, 1.8]
    assert iris.X[50].tolist() == [7.0, 3.2, 4.7, 1.4]  # first versicolor
    # Rows 35 and 38 (1-based) with the UCI errata applied, as in Fisher's paper.
    assert iris.X[34].tolist() == [4.9, 3.1, 1.5, 0.2]
    assert iris.X[37].tolist() == [4.9, 3.6, 1.4, 0.1]
    np.testing.assert_allclose(iris.X.sum(axis=0), [876.5, 458.6, 563.7, 179.9])


def test_iris_unpacks_as_X_y():
    X, y = load_iris()
    assert X.shape == (150, 4) and y.shape == (150,)


def test_digits_shapes_dtypes_and_counts(digits):
    assert digits.X.shape == (1797, 64) and digits.X.dtype == np.float64
    assert digits.y.shape == (1797,) and digits.y.dtype == np.int64
    assert digits.X.min() == 0.0 and digits.X.max() == 16.0
    assert np.all(digits.X == np.round(digits.X))
    assert np.bincount(digits.y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert digits.target_names == tuple("0123456789")
    assert len(digits.feature_names) == 64 and digits.feature_names[9] == "pixel_1_1"


def test_digits_known_entries(digits):
    assert digits.y[:10].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert digits.X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert digits.X[-1].reshape(8, 8)[0].tolist() == [0, 0, 10, 14, 8, 1, 0, 0]
    assert digits.y[-1] == 8
    assert digits.X.sum() == 561718.0


def test_dataset_repr_and_len(iris):
    assert len(iris) == 150
    assert repr(iris) == (
        "Dataset('iris': X float64(150, 4), y int64(150,), "
        "3 classes ['setosa', 'versicolor', 'virginica'])"
    )


def test_bundled_files_are_small_and_only_data():
    files = sorted(p.name for p in DATASETS_DIR.iterdir())
    assert files == ["digits.csv.gz", "iris.csv"]
    for p in DATASETS_DIR.iterdir():
        assert p.stat().st_size < 100_000, p


def test_data_module_stands_alone_without_sklearn():
    # Load the data package by its path in a fresh interpreter: it must need neither the rest of
    # minigrad nor scikit-learn.
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('data', {str(DATA_DIR / '__init__.py')!r},"
        f" submodule_search_locations=[{str(DATA_DIR)!r}])\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "sys.modules['data'] = mod\n"
        "spec.loader.exec_module(mod)\n"
        "X, y = mod.load_digits(); X, y = mod.load_iris()\n"
        "Xb, yb = next(mod.batches(X, y, 8, rng=0)); mod.standardize(Xb); mod.make_moons(4)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'minigrad')]\n"
        "assert not bad, bad\n"
        "print(X.shape)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(150, 4)"


# --- toy problems ----------------------------------------------------------------------------


def test_make_moons_shapes_balance_and_geometry():
    X, y = make_moons(201, noise=0.0, seed=0)
    assert X.shape == (201, 2) and X.dtype == np.float64
    assert y.shape == (201,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 101]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)  # unit circle
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12
    assert y[:20].tolist() != sorted(y[:20].tolist())  # shuffled


def test_make_moons_noise_and_seed():
    a, ya = make_moons(100, noise=0.1, seed=5)
    b, yb = make_moons(100, noise=0.1, seed=5)
    c, _ = make_moons(100, noise=0.1, seed=6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="n=0"):
        make_moons(0)
    with pytest.raises(ValueError, match="noise=-1"):
        make_moons(10, noise=-1)


def test_xor_truth_table():
    X, y = xor()
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    np.testing.assert_array_equal(y, X[:, 0].astype(int) ^ X[:, 1].astype(int))
