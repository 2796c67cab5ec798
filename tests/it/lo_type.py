"""Types cells into a workbook in LibreOffice and saves it as xlsx (tests/it/template.rs).

Usage: python3 lo_type.py IN.xlsx OUT.xlsx CELLS.json, where CELLS.json maps a sheet name to
[[row, column, text], ...] (0-based). Each value goes through Calc's input line (GoToCell, then
EnterString), exactly as if typed, so the cell's number format decides what it becomes; the
API's setFormula would bypass that. LibreOffice runs headless in a profile of its own.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def main():
    src, out, cells = sys.argv[1:4]
    profile = tempfile.mkdtemp(prefix="pingshen-lo-")
    pipe = "pingshen_lo_%d" % os.getpid()
    proc = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
         "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
         "--accept=pipe,name=%s;urp;" % pipe],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(240):
            try:
                ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
                break
            except Exception:
                time.sleep(0.25)
        if ctx is None:
            sys.exit("LibreOffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        url = uno.systemPathToFileUrl(os.path.abspath(src))
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        ctrl = doc.CurrentController
        dispatch = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
        with open(cells, encoding="utf-8") as f:
            plan = json.load(f)
        for name, rows in plan.items():
            sheet = doc.Sheets.getByName(name)
            ctrl.setActiveSheet(sheet)
            for r, c, text in rows:
                addr = sheet.getCellByPosition(c, r).AbsoluteName
                dispatch.executeDispatch(ctrl.Frame, ".uno:GoToCell", "", 0, (prop("ToPoint", addr),))
                dispatch.executeDispatch(ctrl.Frame, ".uno:EnterString", "", 0, (prop("StringName", text),))
        target = uno.systemPathToFileUrl(os.path.abspath(out))
        doc.storeToURL(target, (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:
            pass
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


main()
