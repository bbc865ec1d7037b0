#!/usr/bin/env python3
"""Builds the answers of slurmrestd v0.0.39 to v0.0.44 from their published OpenAPI schemas.

No slurmrestd newer than 22.05 (v0.0.38) runs here, so these are not recordings: they hold the cluster
state that v0.0.38/jobs.http and v0.0.38/nodes.http recorded (the same jobs, nodes, times, exit codes),
written in each version's field types as its schema and Slurm's source define them. Every key written
is checked against the version's schema (its properties, recursively, and JSON types); the check fails
the build on a key the schema does not have. Also written: a schema excerpt of each version's job
submission (job-submit.schema.json) that the tests check GpuFleet's submission bodies against.

Schemas (give their directory with --specs):
  v39.shtml   Slurm 23.02 doc/html/rest_api.shtml (v0.0.39 is only published as this page)
  v40.json    v0.0.40 as slurmrestd 24.05.4 generates it (SlinkyProject/slurm-client api/v0040/slurm-openapi.gen.json)
  v41..v44.json  Slurm's testsuite/python/data/openapi_specs/openapi_spec_v41..v44.json (slurmrestd 25.11)
  v38.json, dbv38.json  Slurm 22.05 src/plugins/openapi/{v0.0.38,dbv0.0.38}/openapi.json
Usage: build-from-schema.py --specs DIR [output dir]
"""
import argparse
import html
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

SIGNALS = {1: "HUP", 2: "INT", 3: "QUIT", 6: "ABRT", 9: "KILL", 10: "USR1", 12: "USR2", 14: "ALRM", 15: "TERM"}


def http(status, body, reason=None):
    reasons = {200: "OK", 304: "NOT MODIFIED", 400: "BAD REQUEST", 404: "NOT FOUND", 500: "INTERNAL ERROR"}
    text = json.dumps(body, indent=2) if body is not None else ""
    head = f"HTTP/1.1 {status} {reason or reasons[status]}\nContent-Length: {len(text)}\n"
    if body is not None:
        head += "Content-Type: application/json\n"
    return head + "\n" + text


def read_recorded(name):
    with open(os.path.join(HERE, "v0.0.38", name)) as f:
        text = f.read()
    return json.loads(text[text.index("\n{") + 1:])


# ---- schemas -----------------------------------------------------------------------------------

class Schema:
    """An OpenAPI document's component schemas, or (v0.0.39) the models of its HTML page."""

    def __init__(self, minor, components):
        self.minor = minor
        self.components = components

    def resolve(self, s):
        while "$ref" in s:
            s = self.components[s["$ref"].split("/")[-1]]
        return s

    def check(self, instance, schema_name, path):
        self._check(instance, {"$ref": "#/components/schemas/" + schema_name}, path)

    def _check(self, value, schema, path):
        s = self.resolve(schema)
        kind = s.get("type")
        if isinstance(value, dict):
            if kind not in (None, "object"):
                raise SystemExit(f"v0.0.{self.minor}: {path} is an object, the schema says {kind}")
            props = s.get("properties")
            if props is None:
                return
            for k, v in value.items():
                if k not in props:
                    raise SystemExit(f"v0.0.{self.minor}: {path}.{k} is not in the schema ({sorted(props)[:12]}...)")
                self._check(v, props[k], f"{path}.{k}")
        elif isinstance(value, list):
            if kind != "array":
                raise SystemExit(f"v0.0.{self.minor}: {path} is a list, the schema says {kind}")
            for i, item in enumerate(value):
                self._check(item, s.get("items", {}), f"{path}[{i}]")
        else:
            expected = {bool: "boolean", str: "string", int: ("integer", "number"), float: "number"}[type(value)]
            if kind is not None and kind not in (expected if isinstance(expected, tuple) else (expected,)):
                raise SystemExit(f"v0.0.{self.minor}: {path} is {type(value).__name__}, the schema says {kind}")
            if "enum" in s and value not in s["enum"]:
                raise SystemExit(f"v0.0.{self.minor}: {path} = {value!r} is not one of {s['enum']}")

    def excerpt(self, root):
        """The schemas reachable from root, without descriptions: what a submission body is checked against."""
        out = {}

        def walk(name):
            if name in out:
                return
            s = self.components[name]
            out[name] = strip(s)
            for ref in re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(s)):
                walk(ref)

        walk(root)
        return {"root": root, "components": {"schemas": out}}


def strip(s):
    if isinstance(s, dict):
        return {k: strip(v) for k, v in s.items() if k not in ("description", "example", "deprecated", "format")}
    if isinstance(s, list):
        return [strip(v) for v in s]
    return s


def openapi(path, minor):
    with open(path) as f:
        return Schema(minor, json.load(f)["components"]["schemas"])


def html_models(path, minor):
    """v0.0.39's models from rest_api.shtml: each property's type as the page gives it."""
    with open(path) as f:
        page = f.read()
    components = {}
    for m in re.finditer(r'<a name="([^"]+)"><code>', page):
        name = m.group(1)
        end = page.find("<h3>", m.end())
        block = page[m.end():end if end > 0 else None]
        props = {}
        # "name (optional)", or a required one's bare "name ".
        for p in re.finditer(r'<div class="param">(.*?)(?: \((?:optional|required)\))?\s*</div><div class="param-desc"><span class="param-type">(.*?)</span>', block, re.S):
            key = html.unescape(re.sub("<[^>]+>", "", p.group(1))).strip()
            typ = html.unescape(re.sub("<[^>]+>", "", p.group(2))).strip()
            props[key] = html_type(typ)
        if props:
            components[name] = {"type": "object", "properties": props}
    return Schema(minor, components)


def html_type(typ):
    m = re.match(r"array\[(.*)\]$", typ)
    if m:
        return {"type": "array", "items": html_type(m.group(1))}
    simple = {"String": "string", "Integer": "integer", "Long": "integer", "Boolean": "boolean", "Double": "number", "Object": "object"}
    if typ in simple:
        return {"type": simple[typ]}
    return {"$ref": "#/components/schemas/" + typ}


# ---- values in each version's types ------------------------------------------------------------

def no_val(n, minor, unset=False):
    """A number as v0.0.39+ writes one (Slurm's NO_VAL: set false)."""
    return {"set": not unset, "infinite": False, "number": 0 if unset else n}


def verbose_exit(raw):
    """v0.0.40+'s exit code, as data_parser's DUMP_FUNC(PROCESS_EXIT_CODE) writes a wait status."""
    if raw & 0x7F:
        sig = raw & 0x7F
        return {"status": ["SIGNALED"], "return_code": no_val(0, 0, unset=True),
                "signal": {"id": no_val(sig, 0), "name": SIGNALS.get(sig, str(sig))}}
    code = (raw >> 8) & 0xFF
    return {"status": ["ERROR" if code else "SUCCESS"], "return_code": no_val(code, 0),
            "signal": {"id": no_val(0, 0, unset=True), "name": ""}}


def gres_form(tres, minor):
    # Slurm 23.11+ writes GRES as TRES names: gres/gpu:N (22.05 and 23.02: gres:gpu:N).
    return tres.replace("gres:", "gres/") if minor >= 40 else tres


def meta(minor, release):
    if minor == 39:
        return {"plugin": {"type": "openapi/v0.0.39", "name": "Slurm OpenAPI v0.0.39"},
                "Slurm": {"version": {"major": 23, "micro": 8, "minor": 2}, "release": "23.02.8"}}
    major, minor_release, micro = release.split(".")
    return {"plugin": {"type": "openapi/slurmctld", "name": "Slurm OpenAPI slurmctld", "data_parser": f"data_parser/v0.0.{minor}",
                       "accounting_storage": ""},
            "client": {"source": "[localhost]:40000", "user": "root", "group": "root"},
            "command": [],
            "slurm": {"version": {"major": major, "micro": micro, "minor": minor_release}, "release": release, "cluster": "gpufleet"}}


RELEASES = {39: "23.02.8", 40: "23.11.10", 41: "24.05.8", 42: "24.11.6", 43: "25.05.3", 44: "25.11.0"}


def job(j, minor):
    raw = j["exit_code"]
    het = j["het_job_id"] != 0
    out = {
        "account": j["account"], "batch_host": j["batch_host"], "comment": j["comment"], "job_id": j["job_id"],
        "name": j["name"], "nodes": j["nodes"], "partition": j["partition"], "state_reason": j["state_reason"],
        "tres_per_node": gres_form(j["tres_per_node"], minor), "user_name": j["user_name"],
        "het_job_id": no_val(j["het_job_id"], minor), "het_job_offset": no_val(j["het_job_offset"], minor, unset=not het),
        "het_job_id_set": j["het_job_id_set"], "time_limit": no_val(j["time_limit"], minor),
    }
    if minor == 39:
        out.update({"job_state": j["job_state"], "exit_code": no_val(raw, minor),
                    "start_time": j["start_time"], "end_time": j["end_time"], "submit_time": j["submit_time"]})
    else:
        out.update({"job_state": [j["job_state"]], "exit_code": verbose_exit(raw), "derived_exit_code": verbose_exit(j["derived_exit_code"]),
                    "start_time": no_val(j["start_time"], minor), "end_time": no_val(j["end_time"], minor),
                    "submit_time": no_val(j["submit_time"], minor)})
    return out


def node(n, minor):
    return {"name": n["name"], "hostname": n["hostname"], "address": n["address"], "cpus": n["cpus"],
            "gres": n["gres"], "gres_used": n["gres_used"], "partitions": n["partitions"],
            "state": [n["state"].upper()] + n["state_flags"], "real_memory": n["real_memory"],
            "alloc_cpus": n["alloc_cpus"], "tres": n["tres"], "tres_used": n["tres_used"] or ""}


def accounting_job(j, minor):
    """A slurmdb job record (sacct's allocation line) of recorded job j."""
    raw = j["exit_code"]
    het = j["het_job_id"] != 0
    time = {"start": j["start_time"], "end": j["end_time"], "submission": j["submit_time"], "elapsed": max(0, j["end_time"] - j["start_time"])}
    out = {"job_id": j["job_id"], "name": j["name"], "nodes": j["nodes"] or "None assigned", "partition": j["partition"], "time": time}
    if minor <= 39:
        # 22.05 dbv0.0.38 and 23.02 v0.0.39 write SUCCESS and 0 for every exit (_dump_job_exit_code).
        if raw & 0x7F:
            ec = {"status": "SIGNALED", "return_code": 0 if minor == 38 else -127,
                  "signal": {"signal_id": raw & 0x7F, "name": SIGNALS.get(raw & 0x7F, "")}}
        else:
            ec = {"status": "SUCCESS", "return_code": 0}
        out.update({"state": {"current": j["job_state"], "reason": "None"}, "exit_code": ec,
                    "het": {"job_id": j["het_job_id"], "job_offset": (j["het_job_offset"] if het else 4294967294) if minor == 38
                            else no_val(j["het_job_offset"], minor, unset=not het)}})
    else:
        out.update({"state": {"current": [j["job_state"]], "reason": "None"}, "exit_code": verbose_exit(raw),
                    "het": {"job_id": j["het_job_id"], "job_offset": no_val(j["het_job_offset"], minor, unset=not het)}})
    return out


# ---- the answers of one version ----------------------------------------------------------------

def build(minor, schema, out_dir, recorded_jobs, recorded_nodes, spec_paths):
    os.makedirs(out_dir, exist_ok=True)
    v = f"v0.0.{minor}"
    m = meta(minor, RELEASES[minor])
    files = {}

    def answer(name, status, body, schema_name=None, reason=None):
        if schema_name:
            schema.check(body, schema_name, name)
        files[name] = http(status, body, reason)

    resp = f"{v}_jobs_response" if minor == 39 else f"{v}_openapi_job_info_resp"
    jobs = {"meta": m, "errors": [], "warnings": [], "jobs": [job(j, minor) for j in recorded_jobs]}
    if minor >= 40:
        jobs.update({"last_backfill": no_val(1796209014, minor), "last_update": no_val(1796209020, minor)})
    answer("jobs.http", 200, jobs, resp)
    if minor >= 40:
        # Asked with update_time= and nothing changed: an empty list, a warning, no time (slurmctld/jobs.c).
        answer("jobs-not-modified.http", 200, {"meta": m, "errors": [], "jobs": [], "last_backfill": no_val(0, minor), "last_update": no_val(0, minor),
                                               "warnings": [{"description": "No job changes since update_time[1796209020]=Wed Dec 02 10:57:00 2026",
                                                             "source": "op_handler_jobs"}]}, resp)
    nodes_resp = f"{v}_nodes_response" if minor == 39 else f"{v}_openapi_nodes_resp"
    nodes = {"meta": m, "errors": [], "warnings": [], "nodes": [node(n, minor) for n in recorded_nodes]}
    if minor >= 40:
        nodes["last_update"] = no_val(1796209020, minor)
    answer("nodes.http", 200, nodes, nodes_resp)

    submit = {"meta": m, "errors": [], "warnings": [], "job_id": 4, "step_id": "batch", "job_submit_user_msg": ""}
    if minor in (40, 41):
        submit["result"] = {"job_id": 4, "step_id": "batch", "error_code": 0, "error": "No error", "job_submit_user_msg": ""}
    submit_resp = f"{v}_job_submission_response" if minor == 39 else f"{v}_openapi_job_submit_response"
    answer("submit.http", 200, submit, submit_resp)
    refused = {"meta": m, "warnings": [], "errors": [{"error": "Invalid node name specified", "error_number": 2018,
                                                      "source": "slurm_submit_batch_job()", "description": "Batch job submission failed"}]}
    answer("submit-invalid-node.http", 500, refused, submit_resp)
    unreachable = {"meta": m, "warnings": [], "errors": [{"error": "Unable to contact slurm controller (connect failure)", "error_number": 1800,
                                                          "source": "slurm_load_jobs()", "description": "Unable to query jobs"}], "jobs": []}
    if minor >= 40:
        unreachable.update({"last_backfill": no_val(0, minor), "last_update": no_val(0, minor)})
    answer("jobs-unreachable.http", 500, unreachable, resp)

    delete_resp = "status" if minor == 39 else (f"{v}_openapi_resp" if minor <= 41 else f"{v}_openapi_kill_job_resp")
    ok = {"meta": m, "errors": [], "warnings": []}
    if minor >= 42:
        ok["status"] = [{"error": {"string": "No error", "code": 0, "message": ""}, "step_id": "9", "job_id": no_val(9, minor),
                         "federation": {"sibling": ""}}]
    answer("delete.http", 200, ok, None if minor == 39 else delete_resp)
    unknown = "Invalid job id specified"
    if minor >= 42:
        # From 24.11 a signal is slurm_kill_jobs(): each job's outcome in status, the request itself succeeds.
        answer("delete-unknown-job.http", 200, {"meta": m, "errors": [], "warnings": [], "status": [
            {"error": {"string": unknown, "code": 2017, "message": unknown}, "step_id": "999999", "job_id": no_val(999999, minor),
             "federation": {"sibling": ""}}]}, delete_resp)
        answer("delete-signal-pending.http", 200, {"meta": m, "errors": [], "warnings": [], "status": [
            {"error": {"string": "Job can not be altered now, try again later", "code": 2020, "message": "Job can not be altered now, try again later"},
             "step_id": "7", "job_id": no_val(7, minor), "federation": {"sibling": ""}}]}, delete_resp)
    else:
        body = {"meta": m, "warnings": [], "errors": [{"error": unknown, "error_number": 2017, "source": "slurm_kill_job2()",
                                                       "description": "unable to send signal Killed to JobId=999999"}]}
        answer("delete-unknown-job.http", 500, body, None if minor == 39 else delete_resp)
        body = {"meta": m, "warnings": [], "errors": [{"error": "Job can not be altered now, try again later", "error_number": 2020,
                                                       "source": "slurm_kill_job2()", "description": "unable to send signal User defined signal 1 to JobId=7"}]}
        answer("delete-signal-pending.http", 500, body, None if minor == 39 else delete_resp)

    db = [accounting_job(j, minor) for j in recorded_jobs if j["name"] in ("gpufleet-902", "gpufleet-903", "gpufleet-907", "gpufleet-908", "gpufleet-911")]
    db_resp = f"{v}_openapi_slurmdbd_jobs_resp" if minor >= 40 else None
    answer("slurmdb-jobs.http", 200, {"meta": m, "errors": [], "warnings": [], "jobs": db}, db_resp)
    if minor == 39:
        # v0.0.39's page describes the job record itself: check each record against it.
        for i, r in enumerate(db):
            schema.check(r, "v0.0.39_job", f"slurmdb-jobs.http jobs[{i}]")

    # The specification a server of this release offers: this version's paths (no schemas: what negotiation reads).
    answer("openapi-v3.http", 200, {"openapi": "3.0.3", "info": {"title": "Slurm REST API", "version": f"Slurm-{RELEASES[minor]}"},
                                    "paths": {p: {} for p in spec_paths}})

    submit_schema = f"{v}_job_submission" if minor == 39 else f"{v}_job_submit_req"
    with open(os.path.join(out_dir, "job-submit.schema.json"), "w") as f:
        json.dump(schema.excerpt(submit_schema), f, indent=1, sort_keys=True)
        f.write("\n")
    for name, text in files.items():
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(text if text.endswith("\n") else text + "\n")


def main():
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--specs", required=True)
    args.add_argument("out", nargs="?", default=HERE)
    a = args.parse_args()
    recorded_jobs = read_recorded("jobs.http")["jobs"]
    recorded_nodes = read_recorded("nodes.http")["nodes"]
    for minor in range(39, 45):
        if minor == 39:
            schema = html_models(os.path.join(a.specs, "v39.shtml"), 39)
            # v0.0.39 paths as Slurm 23.02 binds them (src/plugins/openapi/v0.0.39, dbv0.0.39).
            paths = [f"/slurm/v0.0.39/{p}" for p in ("diag/", "ping/", "jobs/", "job/{job_id}", "job/submit", "nodes/", "node/{node_name}",
                                                     "partitions/", "reservations/")] + ["/slurmdb/v0.0.39/jobs/", "/slurmdb/v0.0.39/job/{job_id}"]
        else:
            path = os.path.join(a.specs, f"v{minor}.json")
            schema = openapi(path, minor)
            with open(path) as f:
                paths = list(json.load(f)["paths"])
        build(minor, schema, os.path.join(a.out, f"v0.0.{minor}"), recorded_jobs, recorded_nodes, paths)
    # v0.0.38: its submission schema, and accounting records as 22.05's dbv0.0.38 writes them (no slurmdbd here).
    v38 = openapi(os.path.join(a.specs, "v38.json"), 38)
    with open(os.path.join(a.out, "v0.0.38", "job-submit.schema.json"), "w") as f:
        json.dump(v38.excerpt("v0.0.38_job_submission"), f, indent=1, sort_keys=True)
        f.write("\n")
    # dbv0.0.38's schemas refer to v0.0.38's (its meta): one set of both.
    db38 = Schema(38, {**v38.components, **openapi(os.path.join(a.specs, "dbv38.json"), 38).components})
    body = {"meta": read_recorded("jobs.http")["meta"], "errors": [],
            "jobs": [accounting_job(j, 38) for j in recorded_jobs if j["name"] in ("gpufleet-902", "gpufleet-903", "gpufleet-907", "gpufleet-908", "gpufleet-911")]}
    # Its meta is the real server's (which writes version numbers as numbers where the schema says strings).
    for i, r in enumerate(body["jobs"]):
        db38.check(r, "dbv0.0.38_job", f"slurmdb-jobs-from-schema.http jobs[{i}]")
    with open(os.path.join(a.out, "v0.0.38", "slurmdb-jobs-from-schema.http"), "w") as f:
        f.write(http(200, body) + "\n")


if __name__ == "__main__":
    sys.exit(main())
