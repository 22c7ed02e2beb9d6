"""`encore`: the command line in front of the recommender, the store and the bot.

One module per command family (models: fit and train; recommend: recommend and similar; evaluate;
database; serve: run and demo). Those that need the store or a fit get them from `bot.app.build_app`."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit is slower (and warns) with threaded BLAS

from bot.cli.commands import main
from bot.cli.parser import build_parser, shard_ids

__all__ = ["build_parser", "main", "shard_ids"]
