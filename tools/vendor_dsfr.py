"""Copy the DSFR files the dashboard uses from the npm package @gouvfr/dsfr into ivr/admin/static/dsfr.

    python tools/vendor_dsfr.py [VERSION]      # `make vendor-dsfr`; needs npm

Takes the main stylesheet, every font and icon it refers to, the favicon and the licence, so the
pages need no CDN and no npm on the server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "ivr" / "admin" / "static" / "dsfr"
VERSION = "1.15.3"
STYLESHEET = "dsfr.main.min.css"


def main() -> int:
    version = sys.argv[1] if len(sys.argv) > 1 else VERSION
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", "--silent", f"@gouvfr/dsfr@{version}"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with tarfile.open(next(Path(tmp).glob("gouvfr-dsfr-*.tgz"))) as archive:
            archive.extractall(tmp, filter="data")
        package = Path(tmp) / "package"
        dist = package / "dist"
        css = (dist / STYLESHEET).read_text(encoding="utf-8")
        wanted = {STYLESHEET, *(p.relative_to(dist).as_posix() for p in (dist / "favicon").iterdir())}
        wanted |= {m for m in re.findall(r"url\(([^)\"']+)\)", css) if not m.startswith("data:")}
        shutil.rmtree(TARGET, ignore_errors=True)
        for name in sorted(wanted):
            source = dist / name
            if source.is_file():
                (TARGET / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, TARGET / name)
        shutil.copyfile(package / "LICENSE.md", TARGET / "LICENSE.md")
        (TARGET / "VERSION").write_text(f"@gouvfr/dsfr {version}\n")
    print(f"DSFR {version}: {len(wanted)} files in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
