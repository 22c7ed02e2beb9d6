"""Music types: how many distinct tags the Last.fm data has before and after cleaning (recommender/tags.py).

Writes benchmarks/results/tags.json: the raw distinct tags (case folded), the music types they clean
into, those kept (used by at least MIN_TAGGERS listeners), and examples of spellings merged into one type.

    python -m benchmarks.tags [--data DIR]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from benchmarks.common import RESULTS, data_dir
from recommender.catalogue import MIN_TAGGERS, ArtistCatalogue, tag_vocabulary
from recommender.datasets import load_hetrec

EXAMPLES = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    ds = load_hetrec(data_dir(args.data))
    used = ds.tags[ds.tags["tag_id"].isin(ds.tag_assignments["tag_id"])]
    raw = set(used["tag"].str.lower())
    vocabulary = tag_vocabulary(ds)
    catalogue = ArtistCatalogue.from_dataset(ds)
    kept = catalogue.search_tags("", 1_000_000)
    variants: dict[str, list[str]] = defaultdict(list)
    for tag, label in vocabulary.items():
        variants[label].append(tag)
    rank = {tag: i for i, tag in enumerate(kept)}
    merged = sorted((label for label, tags in variants.items() if len(tags) > 1 and label in rank), key=rank.get)
    result = {
        "raw_distinct_tags": len(raw),
        "music_types": len(set(vocabulary.values())),
        "music_types_kept": len(kept),
        "min_taggers": MIN_TAGGERS,
        "merged_examples": {label: sorted(variants[label]) for label in merged[:EXAMPLES]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tags.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
