import numpy as np

from tinygrad_np.metrics import accuracy, confusion_matrix, precision_recall_f1


def test_confusion_matrix_and_scores_by_hand():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0, 0]
    cm = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 2, 0], [1, 0, 0]])
    precision, recall, f1 = precision_recall_f1(cm)
    np.testing.assert_allclose(precision, [1 / 3, 2 / 3, 0])
    np.testing.assert_allclose(recall, [1 / 2, 2 / 3, 0])
    np.testing.assert_allclose(f1, [0.4, 2 / 3, 0])
    assert accuracy(y_true, y_pred) == 0.5
