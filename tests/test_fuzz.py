"""No input makes a server error (issue 10): hostile values in every form field and query parameter of every
route, by a user the route serves. A sample here (four fields of each route made hostile one at a time, one
request with all of them hostile, one with a 40-digit id); bench/fuzz_inputs.py runs every field with many
values."""
import os

from .fuzzing import fuzz


def test_hostile_values_everywhere_answer_without_a_server_error(app, tree, login):
    result = fuzz(app, tree, login, per_route=int(os.environ.get("FUZZ_FIELDS", "4")),
                  values_per_field=int(os.environ.get("FUZZ_VALUES", "1")), seed=int(os.environ.get("FUZZ_SEED", "10")))
    print(f"\nfuzz [{app.backend}]: {result['requests']} requests over {result['routes']} routes and "
          f"{result['fields']} field names; statuses {result['statuses']}")
    kinds = sorted({(method, url.split("?")[0], (error or "")[:120]) for _user, method, url, error, _v in result["failures"]})
    assert not result["failures"], f"{len(result['failures'])} server errors:\n" + "\n".join(map(str, kinds[:40]))
