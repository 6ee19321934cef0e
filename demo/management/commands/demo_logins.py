from django.core.management.base import BaseCommand

from demo.services import PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Print the demo logins made by seed_demo: user, password, role, unit."

    def handle(self, *args, **options):
        rows = demo_logins()
        if not rows:
            self.stdout.write("No demo users yet: run `python manage.py seed_demo`.")
            return
        self.stdout.write(f"Demo logins (password “{PASSWORD}” for all):")
        width = max(len(r[0]) for r in rows)
        for username, role, code, name in rows:
            self.stdout.write(f"  {username:<{width}}  {PASSWORD}  {role:<8}  {code:<10}  {name}")
