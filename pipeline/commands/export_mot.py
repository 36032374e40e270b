"""``export-mot --db STORE.duckdb --camera NAME --out FILE``: one camera's tracks as MOT rows."""

from __future__ import annotations

import argparse

from pipeline.commands._outputs import output_file
from pipeline.db import connect
from pipeline.db import tracks as db
from pipeline.errors import UserError
from pipeline.mot_io import write_mot

NAME = "export-mot"
HELP = "Write one camera's tracks in MOT format (id = global shopper id when known)."
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, help="processed store database")
    parser.add_argument("--camera", required=True, help="camera name")
    parser.add_argument("--out", required=True, help="MOT file to write")
    parser.add_argument("--local-ids", action="store_true", help="write camera-local track ids instead")


def run(args: argparse.Namespace) -> int:
    output_file(args.out, "--out")
    conn = connect(args.db, read_only=True)
    try:
        cameras = db.camera_names(conn)
        if args.camera not in cameras:
            raise UserError(
                f"unknown camera {args.camera!r} in {args.db}; cameras: {', '.join(cameras) or 'none'}"
            )
        rows = db.camera_track_rows(conn, args.camera, use_shopper_id=not args.local_ids)
    finally:
        conn.close()
    write_mot(args.out, rows)
    print(f"{len(rows)} rows -> {args.out}")
    return 0
