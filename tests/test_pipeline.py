"""The batched input pipeline: every example once per epoch, seeded reshuffles, scaling done once."""

import numpy as np
import pytest

from modelzoo.anomaly import make_series_pipeline
from modelzoo.data import batched_array_pipeline, load_dataset, make_image_pipeline, scale_images
from modelzoo.resume import advance_shuffle
from modelzoo.trainer import plan_epochs


def epoch_labels(dataset):
    return np.concatenate([labels.numpy() for _, labels in dataset])


def test_each_epoch_yields_every_example_once(mnist_arrays):
    images = mnist_arrays.x_train[:1000]
    labels = np.arange(1000, dtype=np.int32)  # labels as ids make each example traceable
    dataset = make_image_pipeline(images, labels, batch_size=64, shuffle=True, seed=3)

    first, second = epoch_labels(dataset), epoch_labels(dataset)

    assert sorted(first) == list(range(1000))
    assert sorted(second) == list(range(1000))
    assert not np.array_equal(first, second), "the order must change between epochs"


def test_same_seed_same_orders(mnist_arrays):
    images, labels = mnist_arrays.x_train[:500], np.arange(500, dtype=np.int32)
    pipeline = make_image_pipeline(images, labels, batch_size=32, shuffle=True, seed=11)
    same_seed = make_image_pipeline(images, labels, batch_size=32, shuffle=True, seed=11)
    other_seed = make_image_pipeline(images, labels, batch_size=32, shuffle=True, seed=12)

    for _ in range(2):
        order = epoch_labels(pipeline)
        assert np.array_equal(order, epoch_labels(same_seed))
        assert not np.array_equal(order, epoch_labels(other_seed))


def test_dropping_iterators_advances_epochs(mnist_arrays):
    # A resumed run creates and drops one iterator per completed epoch
    # (modelzoo.resume.advance_shuffle) to reach the next epoch's order.
    images, labels = mnist_arrays.x_train[:400], np.arange(400, dtype=np.int32)
    uninterrupted = make_image_pipeline(images, labels, batch_size=64, shuffle=True, seed=5)
    resumed = make_image_pipeline(images, labels, batch_size=64, shuffle=True, seed=5)
    epoch_labels(uninterrupted)
    second_epoch = epoch_labels(uninterrupted)

    iterator = iter(resumed)
    del iterator

    assert np.array_equal(epoch_labels(resumed), second_epoch)


def test_images_match_their_labels_after_shuffle(mnist_arrays):
    images = mnist_arrays.x_train[:300]
    ids = np.arange(300, dtype=np.int32)
    dataset = make_image_pipeline(images, ids, batch_size=50, shuffle=True, seed=0)

    for batch_images, batch_ids in dataset:
        expected = images[batch_ids.numpy()].astype(np.float32)[..., None] / 255.0
        np.testing.assert_array_equal(batch_images.numpy(), expected)


def test_unshuffled_split_keeps_order_and_last_partial_batch(mnist_arrays):
    images, labels = mnist_arrays.x_test[:130], mnist_arrays.y_test[:130]
    dataset = make_image_pipeline(images, labels, batch_size=64, shuffle=False, seed=0)
    sizes = [int(batch_labels.shape[0]) for _, batch_labels in dataset]

    assert sizes == [64, 64, 2]
    np.testing.assert_array_equal(epoch_labels(dataset), labels)


def test_shuffle_buffer_limits_how_far_examples_move():
    x = np.arange(1000, dtype=np.float32)[:, None]
    dataset = batched_array_pipeline(x, np.arange(1000), batch_size=10, shuffle=True, seed=0,
                                     shuffle_buffer=20)
    order = np.concatenate([labels.numpy() for _, labels in dataset])

    assert sorted(order) == list(range(1000))
    # With a buffer of 20, the example at position p comes from index < p + 20.
    assert np.all(order < np.arange(1000) + 20)


def test_scale_images_converts_once_to_float32(mnist_arrays):
    images = mnist_arrays.x_train[:10]

    scaled = scale_images(images, (784,))
    already_float = scale_images(scaled, (28, 28, 1))

    assert scaled.dtype == np.float32
    assert scaled.shape == (10, 784)
    assert scaled.max() == 1.0
    assert scaled.min() == 0.0
    np.testing.assert_array_equal(already_float.reshape(10, 784), scaled)


def test_sequence_splits_use_batched_pipeline(data_dir):
    train, validation, test, info = load_dataset("ucr/ItalyPowerDemand", data_dir=data_dir,
                                                 batch_size=16, validation_fraction=0.2)
    labels = epoch_labels(train)

    assert len(labels) == info.num_train
    first_inputs = next(iter(test))[0]
    assert first_inputs.dtype == "float32"
    assert tuple(first_inputs.shape[1:]) == info.input_shape


def test_batched_pipeline_without_targets_rejected():
    with pytest.raises(ValueError, match=r"received y=None; pass the targets as y, or "
                                         r"targets_are_inputs=True"):
        batched_array_pipeline(np.zeros((4, 2), np.float32), None, batch_size=2, shuffle=False,
                               seed=0)


def _traceable_pipeline(kind, mnist_arrays):
    """Return a shuffling training pipeline of 500 examples whose batches show their order."""
    images, ids = mnist_arrays.x_train[:500], np.arange(500, dtype=np.int32)
    if kind == "series":
        series = np.repeat(np.arange(500, dtype=np.float32)[:, None, None], 4, axis=1)
        return make_series_pipeline(series, batch_size=64, shuffle=True, seed=4)
    options = {"full shuffle": {}, "shuffle buffer": {"shuffle_buffer": 100},
               "fresh noise": {"targets": "inputs", "noise": "gaussian", "noise_level": 0.3}}
    return make_image_pipeline(images, ids, batch_size=64, shuffle=True, seed=4, **options[kind])


def _batches_values(batches):
    """Return the inputs and targets of `batches`, one row per example."""
    return np.concatenate([
        np.concatenate([np.reshape(inputs, (len(inputs), -1)),
                        np.reshape(targets, (len(targets), -1))], axis=1)
        for inputs, targets in batches
    ])


@pytest.mark.parametrize("kind", ["full shuffle", "shuffle buffer", "fresh noise", "series"])
def test_plan_epochs_repeated_set_keeps_epoch_orders(kind, mnist_arrays):
    # One repeated iterator must yield the epochs of one new iterator per epoch,
    # and advance_shuffle must reach them for a resumed run.
    per_epoch = _traceable_pipeline(kind, mnist_arrays)
    expected = [_batches_values(per_epoch) for _ in range(3)]
    assert not np.array_equal(expected[0], expected[1]), "the epochs must differ"

    plan = plan_epochs(_traceable_pipeline(kind, mnist_arrays), steps_per_execution=16)
    assert (plan.steps_per_epoch, plan.steps_per_execution, plan.repeats) == (8, 8, True)
    iterator = iter(plan.dataset)
    for epoch in range(3):
        batches = [next(iterator) for _ in range(plan.steps_per_epoch)]
        np.testing.assert_array_equal(_batches_values(batches), expected[epoch])

    resumed = _traceable_pipeline(kind, mnist_arrays)
    advance_shuffle(resumed, 2)
    iterator = iter(plan_epochs(resumed, steps_per_execution=16).dataset)
    batches = [next(iterator) for _ in range(8)]
    np.testing.assert_array_equal(_batches_values(batches), expected[2])


def test_plan_epochs_long_epochs_not_repeated(mnist_arrays):
    dataset = _traceable_pipeline("full shuffle", mnist_arrays)

    plan = plan_epochs(dataset, steps_per_execution=7)

    assert plan.dataset is dataset
    assert (plan.steps_per_epoch, plan.steps_per_execution, plan.repeats) == (8, 7, False)
