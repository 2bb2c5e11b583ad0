"""pubgraph: train and evaluate sentence-transformers models on graph-mined pairs.

Public API:

* ``train.config.load_config(path, **overrides) -> TrainConfig``
* ``train.trainer.train(cfg, resume=..., overwrite=...) -> TrainResult``
* ``train.evaluate``: ``biosses_task``, ``pubmedqa_task``, ``csv_task``,
  ``tasks_from_pairs_dir``, ``labelled_pairs_task``, ``citation_task``, ``retrieval_task``,
  ``run_tasks(model, tasks)``
* ``train.models.resolve_model(name_or_path) -> str``, ``load_model``, ``build_tiny_model``
* ``train.data.load_pairs(path, split=...) -> PairTable``, ``build_dataset(table, loss)``
* ``train.metrics``: pure ranking and pair metrics

Commands: ``pubgraph train`` and ``pubgraph eval`` (``train/cli.py``). This package reads
pair files (Parquet/CSV) and never imports ingest, pairing or analysis.
"""
