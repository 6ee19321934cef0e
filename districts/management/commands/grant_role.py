from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from districts.services import RoleGrantRefused, role_grant


class Command(BaseCommand):
    help = (
        "Give a user a role (official, reviewer, leader) on an org unit and its subtree. With "
        "--as USERNAME the grant is made on that user's behalf and must lie within their scope "
        "and not above their own role."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=["official", "reviewer", "leader"])
        parser.add_argument("org_unit_code")
        parser.add_argument("--create", action="store_true", help="create the user if missing")
        parser.add_argument("--password", help="set this password (with --create or not)")
        parser.add_argument("--as", dest="acting", help="the user granting the role")

    def handle(self, *args, username, role, org_unit_code, create, password, acting, **options):
        actor = None
        if acting:
            actor = get_user_model().objects.filter(username=acting, is_active=True).first()
            if actor is None:
                raise CommandError(f"acting user “{acting}” does not exist or is inactive")
        try:
            user, assignment, created = role_grant(
                username=username,
                role=role,
                org_unit_code=org_unit_code,
                create=create,
                actor=actor,
            )
        except (ValueError, RoleGrantRefused) as exc:
            raise CommandError(str(exc)) from exc
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        state = "granted" if created else "already held"
        self.stdout.write(f"{user.username}: {role} on {assignment.org_unit} ({state})")
