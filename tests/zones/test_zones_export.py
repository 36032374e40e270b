"""CSV reports: stable file names and columns, ISO 8601 times, filters, and the CLI commands."""

from __future__ import annotations

import csv
import re
from datetime import datetime

from zones_testkit import make_config, path, write_store

from pipeline.cli import main
from zones.export import REPORTS, write_reports

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?$")


def _read(p):
    with p.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_report_schema_and_iso_times(store, tmp_path):
    conn = store({1: path(("In", 2), ("HV", 30), ("out", 5), ("Out", 2)), 2: path(("In", 2), ("A", 20))})
    files = write_reports(conn, tmp_path / "out")
    assert [f.name for f in files] == [f"{name}.csv" for name in REPORTS]
    for f, (name, columns) in zip(files, REPORTS.items()):
        with f.open(newline="") as fh:
            assert tuple(next(csv.reader(fh))) == columns, name
    visits = _read(tmp_path / "out" / "visits.csv")
    assert [v["zone"] for v in visits] == ["In", "HV", "Out", "In", "A"]
    assert all(ISO.match(v["start_time"]) and ISO.match(v["end_time"]) for v in visits)
    assert visits[1]["dwell_s"] == "30.0" and visits[1]["is_staff"] == "false"
    flags = _read(tmp_path / "out" / "flags.csv")
    assert [(f["rule"], f["review_state"]) for f in flags] == [("checkout_bypass", "new")]
    assert ISO.match(flags[0]["start_time"])
    shoppers = _read(tmp_path / "out" / "shoppers.csv")
    assert [s["sequence"] for s in shoppers] == ["In > HV > Out", "In > A"]


def test_report_filters(store, tmp_path):
    conn = store({1: path(("In", 2), ("HV", 30), ("out", 5), ("Out", 2)), 2: path(("In", 2), ("A", 20))})
    write_reports(conn, tmp_path / "a", zones=["A", "HV"])
    assert [v["zone"] for v in _read(tmp_path / "a" / "visits.csv")] == ["HV", "A"]
    assert [s["shopper_id"] for s in _read(tmp_path / "a" / "shoppers.csv")] == ["1", "2"]
    write_reports(conn, tmp_path / "b", start=datetime(2026, 11, 20, 11))
    assert _read(tmp_path / "b" / "visits.csv") == []
    assert _read(tmp_path / "b" / "section_hourly.csv") == []  # the 10:00 hour ends before 11:00
    assert len(_read(tmp_path / "b" / "section_metrics.csv")) == 2  # the day overlaps [11:00, end)


def test_cli_analyse_report_import(tmp_path, capsys):
    db = tmp_path / "store.duckdb"
    write_store(db, {1: path(("In", 2), ("Stock", 10))})
    cfg = tmp_path / "store.yaml"
    import yaml

    from pipeline.config import config_to_dict

    cfg.write_text(yaml.safe_dump(config_to_dict(make_config())))
    assert main(["analyse", "--db", str(db), "--config", str(cfg)]) == 0
    assert "1 flags" in capsys.readouterr().out
    assert main(["analyse", "--db", str(db)]) == 0  # uses the config saved in the database
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "r")]) == 0
    assert len(list((tmp_path / "r").glob("*.csv"))) == len(REPORTS)
    sales = tmp_path / "sales.csv"
    sales.write_text("timestamp,transactions\n2026-11-20T10:00:00,1\nnot-a-time,1\n")
    assert main(["import-sales", "--db", str(db), str(sales)]) == 2
    assert "line 3: timestamp 'not-a-time'" in capsys.readouterr().err
    assert main(["analyse", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "r"), "--start", "noon"]) == 2
