"""The live OpenAPI schema against the running application: schemathesis generates requests for
every operation, valid and invalid, and checks that none is a server error and that every
status code, content type, header and body is the one the schema documents.

Runs in-process (WSGI) on the test database, as the administrator (every row visible) and as
an official (the scope rule's 403s and 404s), with a modest number of examples per operation.
The operations are driven through Hypothesis directly: schemathesis' own pytest plugin reads
``Node._nodeid``, which pytest 9 no longer has.
"""

from __future__ import annotations

import pytest
import schemathesis
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
            case.call_and_validate(headers=auth, checks=checks)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
