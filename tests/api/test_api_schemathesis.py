"""The live OpenAPI schema against the running application: schemathesis generates requests for
every operation, valid and invalid, and checks that none is a server error and that every
status code, content type, header and body is the one the schema documents.

Runs in-process (WSGI) on the test database, as the administrator (every row visible) and as
an official (the scope rule's 403s and 404s), with a modest number of examples per operation.
The operations are driven through Hypothesis directly: schemathesis' own pytest plugin reads
``Node._nodeid``, which pytest 9 no longer has.
"""

from __future__ import annotations

import copy
from collections import Counter

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation import GenerationMode

# Conformance to the schema, no server errors, and invalid input rejected with a 4xx. Not
# positive_data_acceptance: a schema-valid request may still name an element or unit that does
# not exist (a 400), which no schema can express. The stateful checks (use_after_free, …) need
# DELETE, which this API does not have.
CHECK_NAMES = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]
EXAMPLES = 8
# Operations whose only input is an integer id in the path: there is no invalid request for
# Hypothesis to make (it would search until it gives up).
NOTHING_TO_NEGATE = {"GET /api/v1/uploads/{id}/errors/"}


@pytest.fixture
def wsgi_app():
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application

    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("user", ["admin", "alice"])
def test_the_api_keeps_to_its_schema(values, progress, tokens, wsgi_app, user, mode):
    auth = {"Authorization": f"Token {tokens[user]}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=auth)
    load_all_checks()
    checks = CHECKS.get_by_names(CHECK_NAMES)
    failures: list[str] = []
    calls: Counter = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16

    for operation in operations:
        if mode == GenerationMode.NEGATIVE and operation.label in NOTHING_TO_NEGATE:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            calls[case.method] += 1
            case.call_and_validate(headers=auth, checks=checks)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
            failures.append(f"{operation.label}: {exc}")
    print(f"\nstateless as {user}, {mode.value}: {sum(calls.values())} calls {dict(calls)}")
    assert not failures, "\n\n".join(failures)


# --- stateful: the state-changing operations, chained by the schema's links -------------------

# Values a client of this test database could send: known elements, units and periods (and a few
# that are not), so that writes get past the 400s and on to the links they open (read, change
# with the ETag, approve, reject). Hints on a copy of the schema; the API's schema is untouched.
HINTS = {
    "element": {"type": "string", "enum": ["population.resident", "volunteers.registered"]},
    "org_unit": {"type": "string", "enum": [
        "441900003001", "441900003002", "441900101001", "442000001001"]},
    "period": {"type": "string", "enum": ["2015", "2016", "2017"]},
}  # fmt: skip
VALUE_HINT = {"oneOf": [
    {"type": "integer", "minimum": 0, "maximum": 3000},
    {"type": "string", "enum": ["12,000", "１２３", "abc", "1e20", "-3"]},
]}  # fmt: skip
STATEFUL_USERS = ["admin", "alice"]  # those who write: a reviewer gets nothing to link from
STATEFUL_SCENARIOS = 40


def hinted(raw: dict) -> dict:
    schemas = raw["components"]["schemas"]
    create = schemas["DataValueCreateInRequest"]["properties"]
    create.update(HINTS, value=VALUE_HINT)
    del create["version"]  # left to the links' If-Match (a random one is mostly a 409)
    schemas["PatchedDataValuePatchInRequest"]["properties"]["value"] = VALUE_HINT
    return raw


@pytest.mark.parametrize("user", STATEFUL_USERS)
def test_state_changing_operations_never_fail_the_server(values, progress, tokens, wsgi_app, user):
    """Scenarios of up to 8 calls that create values, then follow the links of each response
    (read it, change it with its ETag, approve or reject it), and upload files and poll them:
    no call may be a server error or stray from the schema. The counts are printed (-s)."""
    auth = {"Authorization": f"Token {tokens[user]}"}
    # Read through the WSGI app: the test client would reconnect close_old_connections.
    raw = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=auth)
    schema = schemathesis.openapi.from_dict(hinted(copy.deepcopy(raw.raw_schema)))
    schema.app = wsgi_app
    load_all_checks()
    # Not negative_data_rejection: a value outside the hints is "invalid" for the hinted copy
    # but not for the API (the stateless test above holds the API to its own schema).
    checks = CHECKS.get_by_names([c for c in CHECK_NAMES if c != "negative_data_rejection"])
    seen: Counter = Counter()

    class Machine(schema.as_state_machine()):
        # Each scenario starts from the fixtures' data: what one wrote would otherwise change
        # the responses (201 or 200, 409) of the next, which Hypothesis takes for flakiness.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": auth}

        def after_call(self, response, case):
            super().after_call(response, case)
            seen[(case.operation.label, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=checks, transport_kwargs=kwargs or None)

    Machine.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    calls = sum(seen.values())
    writes = {k: n for k, n in seen.items() if not k[0].startswith("GET")}
    print(f"\nstateful as {user}: {calls} calls, {sum(writes.values())} state-changing")
    for (label, code), n in sorted(seen.items()):
        print(f"  {label} → {code}: {n}")
    assert not [k for k in seen if k[1] >= 500]
    # The links were followed: values were written and then changed or reviewed through them.
    assert seen[("POST /api/v1/data-values/", 201)] > 0
    assert any(k[0].startswith(("PATCH", "POST /api/v1/data-values/{id}")) for k in writes)
