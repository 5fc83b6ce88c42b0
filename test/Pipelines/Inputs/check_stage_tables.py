"""Checks the stage tables of docs/architecture.md against the pipelines.

usage: check_stage_tables.py SMEPILOT_OPT DOC SOURCE_ROOT

The doc holds one table per registered pipeline between the lines
  <!-- stages: PIPELINE -->   and   <!-- end stages -->
whose rows are `| `stage` | `pass` `pass` ... | path, path ... |`. For every
pipeline this compares, with what smepilot-opt reports:
  - the stage names and their order (the list an unknown stop-after prints);
  - that each pass named in a row runs in that stage (the passes
    --dump-pass-pipeline adds between stop-after=<previous> and
    stop-after=<stage>);
  - that each file named in a row exists under SOURCE_ROOT;
and that every other repository path the page names (lib/..., runtime/...,
globs allowed) exists.
Prints one line per pipeline and exits 0 when all agree; otherwise prints
what differs and exits 1.
"""

import glob
import os
import re
import subprocess
import sys


def doc_tables(text):
    """{pipeline: [(stage, [passes], [paths])]} in document order."""
    tables = {}
    for m in re.finditer(r"<!-- stages: ([\w-]+) -->\n(.*?)<!-- end stages -->", text, re.S):
        rows = []
        for line in m.group(2).splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 3 or not cells[0].startswith("`"):
                continue  # header, separator
            stage = cells[0].strip("`")
            passes = re.findall(r"`([^`]+)`", cells[1])
            paths = [p.strip().strip("`") for p in cells[2].split(",") if p.strip()]
            rows.append((stage, passes, paths))
        tables[m.group(1)] = rows
    return tables


def run_opt(opt, pipeline, option):
    proc = subprocess.run(
        [opt, "-", "--%s=%s" % (pipeline, option), "--dump-pass-pipeline", "-o", "/dev/null"],
        input="module {}\n", capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def registered_stages(opt, pipeline):
    _, out = run_opt(opt, pipeline, "stop-after=-no-such-stage-")
    m = re.search(r"\(stages: ([^)]*)\)", out)
    if not m:
        sys.exit("%s: no stage list in smepilot-opt's output:\n%s" % (pipeline, out))
    return [s.strip() for s in m.group(1).split(",")]


def pass_names(dump):
    """The pass names of a --dump-pass-pipeline text, in order, without
    options and op anchors."""
    text = dump[dump.find("builtin.module("):]
    while True:  # drop {options}, innermost first
        stripped = re.sub(r"\{[^{}]*\}", "", text)
        if stripped == text:
            break
        text = stripped
    names = re.findall(r"([\w.-]+)\s*(?=[,)(])", text)
    # An anchor is a name followed by '('.
    anchors = set(re.findall(r"([\w.-]+)\s*\(", text))
    return [n for n in names if n not in anchors]


def stage_passes(opt, pipeline, stages):
    """{stage: set of passes that stage adds}."""
    result, before = {}, []
    for stage in stages:
        code, out = run_opt(opt, pipeline, "stop-after=" + stage)
        if code != 0:
            sys.exit("%s: stop-after=%s failed:\n%s" % (pipeline, stage, out))
        after = pass_names(out)
        added = list(after)
        for name in before:
            if name in added:
                added.remove(name)
        result[stage] = set(added)
        before = after
    return result


def main():
    opt, doc, root = sys.argv[1:4]
    with open(doc) as f:
        tables = doc_tables(f.read())
    errors = []
    for pipeline in ("smepilot-host-pipeline", "smepilot-sme-pipeline"):
        rows = tables.get(pipeline)
        if rows is None:
            errors.append("%s: no '<!-- stages: %s -->' table in %s" % (pipeline, pipeline, doc))
            continue
        stages = registered_stages(opt, pipeline)
        documented = [r[0] for r in rows]
        if documented != stages:
            errors.append("%s: the doc lists the stages %s but the pipeline has %s" %
                          (pipeline, ", ".join(documented), ", ".join(stages)))
            continue
        added = stage_passes(opt, pipeline, stages)
        for stage, passes, paths in rows:
            for p in passes:
                if p not in added[stage]:
                    errors.append("%s: stage '%s' does not run '%s' (it runs: %s)" %
                                  (pipeline, stage, p, ", ".join(sorted(added[stage]))))
            for path in paths:
                try:
                    open("%s/%s" % (root, path)).close()
                except OSError:
                    errors.append("%s: stage '%s' names '%s', which does not exist" %
                                  (pipeline, stage, path))
        if not any(e.startswith(pipeline) for e in errors):
            print("%s: %d stages as documented" % (pipeline, len(stages)))
    with open(doc) as f:
        text = f.read()
    for path in sorted(set(re.findall(
            r"\b(?:lib|include|runtime|tools|test|unittests|docs)/[\w./*-]*[\w*]", text))):
        if not glob.glob(os.path.join(root, path)):
            errors.append("%s names '%s', which does not exist" % (os.path.basename(doc), path))
    for e in errors:
        print("error: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
