from django.core.management.base import BaseCommand, CommandError

from districts.services import role_grant


class Command(BaseCommand):
    help = "Give a user a role (official, reviewer, leader) on an org unit and its subtree."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=["official", "reviewer", "leader"])
        parser.add_argument("org_unit_code")
        parser.add_argument("--create", action="store_true", help="create the user if missing")
        parser.add_argument("--password", help="set this password (with --create or not)")

    def handle(self, *args, username, role, org_unit_code, create, password, **options):
        try:
            user, assignment, created = role_grant(
                username=username, role=role, org_unit_code=org_unit_code, create=create
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        state = "granted" if created else "already held"
        self.stdout.write(f"{user.username}: {role} on {assignment.org_unit} ({state})")
