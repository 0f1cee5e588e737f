"""Grow a big archive from a small one: copies of every interview under new ids, vectors and all.

The scale benchmark (bench_scale.py) needs 100k and 1M chunks; embedding that many texts would take hours on a
laptop, and copies search exactly like originals (each copy's title says which copy it is). Every record is
written the way onrecord writes it (chunks with their vectors and metadata, transcript pages, the interview record),
copy by copy, and the revision is bumped once each copy is whole, as a commit does.

    python benchmarks/scale_archive.py SOURCE_FOLDER TARGET_FOLDER_OR_URL --chunks 100000
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from onrecord.search.config import Settings  # noqa: E402
from onrecord.search.iterutil import batched  # noqa: E402
from onrecord.search.store import open_archive  # noqa: E402
from onrecord.search.store.archive import chunk_id, interview_from_doc, page_id  # noqa: E402

INTERVIEWS_PER_READ = 40  # about 2,500 chunks of the podcast corpus per read: far below SQLite's variable limit


def copy_id(interview_id: str, copy: int) -> str:
    return hashlib.sha256(f"{interview_id}:copy{copy}".encode()).hexdigest()[:16]


def chunk_count(archive) -> int:
    return sum(i.chunks for i in archive.list())


def grow(source, target, chunks_wanted: int, log=print) -> int:
    """Add copies of `source`'s interviews to `target` until it holds `chunks_wanted` chunks (or a little
    more: whole interviews only). Returns the chunk count reached."""
    if not target.embed_model:
        target.set_embed_model(source.embed_model)
    have = chunk_count(target)
    copy = 1 + max((int(i.title.rsplit("copy ", 1)[1].rstrip("]")) for i in target.list()
                    if i.title.endswith("]") and "[copy " in i.title), default=0)
    originals = sorted(source.list(), key=lambda i: i.id)
    started = time.perf_counter()
    while have < chunks_wanted:
        for group in batched(originals, INTERVIEWS_PER_READ):
            group = [i for i in group if not target.has(copy_id(i.id, copy))]
            if group and have < chunks_wanted:
                have += _copy_group(source, target, group, copy)
        target._bump_revision()  # as a commit does: readers look again
        rate = have / (time.perf_counter() - started)
        log(f"copy {copy}: {have:,} chunks ({rate:,.0f} chunks/s)")
        copy += 1
    return have


def _copy_group(source, target, interviews, copy: int) -> int:
    ids = [i.id for i in interviews]
    new = {i.id: copy_id(i.id, copy) for i in interviews}
    got = source.chunks().get(where={"interview_id": {"$in": ids}},
                              include=["documents", "metadatas", "embeddings"])
    metas = [dict(m, interview_id=new[m["interview_id"]]) for m in got["metadatas"]]
    for part in batched(range(len(metas)), 2000):
        target.chunks().add(ids=[chunk_id(metas[n]["interview_id"], metas[n]["index"]) for n in part],
                            documents=[got["documents"][n] for n in part], metadatas=[metas[n] for n in part],
                            embeddings=[got["embeddings"][n] for n in part])
    pages = source.transcripts.get(where={"interview_id": {"$in": ids}}, include=["documents", "metadatas"])
    page_metas = [dict(m, interview_id=new[m["interview_id"]]) for m in pages["metadatas"]]
    target.transcripts.add(ids=[page_id(m["interview_id"], m["page"]) for m in page_metas],
                           documents=pages["documents"], metadatas=page_metas,
                           embeddings=[[1.0]] * len(page_metas))
    records = source.interviews.get(ids=ids, include=["documents"])
    for doc in records["documents"]:
        interview = interview_from_doc(doc)
        target.put_record(dataclasses.replace(interview, id=new[interview.id],
                                              title=f"{interview.title} [copy {copy}]"))
    return len(metas)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="an onrecord archive folder (e.g. benchmarks/out/corpus-archive)")
    parser.add_argument("target", help="an archive folder or a Chroma server URL")
    parser.add_argument("--chunks", type=int, required=True, help="grow the target to this many chunks")
    args = parser.parse_args()
    source = open_archive(Settings(archive=args.source))
    target = open_archive(Settings(archive=args.target), create=True)
    grow(source, target, args.chunks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
