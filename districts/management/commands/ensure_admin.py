from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the given superuser if missing (quick start only; never resets a password)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")

    def handle(self, *args, username, password, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"{username}: exists")
            return
        User.objects.create_superuser(username=username, password=password, email="")
        self.stdout.write(f"{username}: created")
