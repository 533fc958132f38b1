"""The `sagspost` command: serve, migrate, bootstrap, import."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from server import create_app


def _session():
    return current_app.extensions["sagspost.sessionmaker"]()


class _Group(FlaskGroup):
    """Domain errors (bad file, unreachable directory …) end a command with their message, not a traceback."""

    def invoke(self, ctx):
        from server.errors import DomainError

        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None


@click.group(cls=_Group, create_app=create_app, add_default_commands=False)
def main():
    """Sagspost: case files and Digital Post."""


@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head")
@with_appcontext
def db_upgrade(revision):
    """Migrate the database to the newest schema."""
    from server.migrate import upgrade

    upgrade(current_app.extensions["sagspost.engine"], revision)
    click.echo("database schema is up to date")


@main.command("init")
@with_appcontext
def init():
    """Migrate, create the roles and a first administrator if there is no user yet."""
    from server import bootstrap
    from server.migrate import upgrade

    upgrade(current_app.extensions["sagspost.engine"])
    settings = current_app.config["SAGSPOST"]
    with _session() as session, session.begin():
        password = settings.admin_password or secrets.token_urlsafe(15)
        created = bootstrap.initialise(session, current_app.extensions["sagspost.passwords"], password,
                                       current_app.extensions["sagspost.blobs"])
    if created and not settings.admin_password:
        click.echo(f"First administrator: username 'admin', password '{password}' (shown once; change it).")
    elif created:
        click.echo("First administrator 'admin' created with the password from SAGSPOST_ADMIN_PASSWORD.")


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--threads", default=8, type=int)
@with_appcontext
def serve(host, port, threads):
    """Serve the app with a threaded production WSGI server (waitress)."""
    from waitress import serve as waitress_serve

    click.echo(f"Sagspost on http://{host}:{port}")
    waitress_serve(current_app._get_current_object(), host=host, port=port, threads=threads, ident="sagspost")


@main.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.pass_context
@with_appcontext
def run(ctx, host, port):
    """Serve the app with a background worker and, unless real Digital Post is set up, the local
    Digital Post simulator beside it; Ctrl-C stops them all."""
    import subprocess

    commands = [["worker"]]
    if current_app.config["SAGSPOST"].post_provider == "simulator":
        commands.append(["simulator"])
    children = [subprocess.Popen([sys.executable, "-m", "server.cli", *command]) for command in commands]
    try:
        ctx.invoke(serve, host=host, port=port)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


@main.command("worker")
@click.option("--concurrency", default=2, type=int, help="Parallel jobs (processes).")
@with_appcontext
def worker(concurrency):
    """Run background jobs (text extraction, sending, …) from the queue."""
    from server.jobs import worker as jobs_worker

    jobs_worker.use_app(current_app._get_current_object())
    jobs_worker.celery.worker_main(["worker", "--loglevel", "WARNING", "--concurrency", str(concurrency), "--without-gossip", "--without-mingle"])


@main.command("import-users")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--deactivate-missing", is_flag=True, help="Deactivate CSV-imported users absent from this file.")
@with_appcontext
def import_users(csv_file: Path, deactivate_missing: bool):
    """Create and update users and groups from a CSV export of an organisation directory."""
    from server.auth import directory

    with _session() as session, session.begin():
        report = directory.import_csv(
            session, current_app.extensions["sagspost.passwords"], csv_file.read_bytes(), deactivate_missing=deactivate_missing
        )
    click.echo(report.describe())
    sys.exit(1 if report.problems and not (report.created_users or report.updated_users) else 0)


@main.command("link-google")
@click.argument("username")
@click.argument("google_id")
@with_appcontext
def link_google(username: str, google_id: str):
    """Link a Google account (its user id, as the Admin console or the Directory API shows it) to a user."""
    from server.auth import google_tokens

    with _session() as session, session.begin():
        google_tokens.link_account(session, username, google_id)
    click.echo(f"Google account {google_id} is linked to {username}.")


@main.command("sync-directory")
@with_appcontext
def sync_directory():
    """Synchronise users and groups from LDAP / Active Directory (SAGSPOST_LDAP_* settings)."""
    from server.auth import directory

    settings = current_app.config["SAGSPOST"]
    with _session() as session, session.begin():
        report = directory.sync_ldap(session, current_app.extensions["sagspost.passwords"], settings)
    click.echo(report.describe())


@main.command("import-kle")
@click.argument("xml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plan", "plan_name", default="KLE", help="Name of the journal plan to create or update.")
@with_appcontext
def import_kle(xml_file: Path, plan_name: str):
    """Import a KLE emneplan XML file as a journal plan."""
    from server.cases import kle

    with _session() as session, session.begin():
        report = kle.import_kle(session, None, xml_file.read_bytes(), plan_name)
    click.echo(report.describe())


@main.command("reindex")
@click.option("--batch-size", default=500, type=int, help="Entities indexed per transaction.")
@click.option("--type", "types", multiple=True, type=click.Choice(["case", "document", "contact"]),
              help="Only this entity type (repeatable); all by default.")
@with_appcontext
def reindex(batch_size: int, types: tuple[str, ...]):
    """Rebuild the search index from the cases, documents and contacts, in batches."""
    from server.search import services as search

    counts = search.reindex(_session, batch_size=batch_size, types=list(types) or None)
    click.echo(", ".join(f"{n} {t}" for t, n in counts.items()) + " indexed")


@main.command("simulator")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=None, type=int, help="Default: SAGSPOST_SIMULATOR_PORT (8025).")
@click.option("--threads", default=16, type=int)
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Default: SAGSPOST_SIMULATOR_STATE_FILE, or post-simulator.sqlite in the data folder.")
@with_appcontext
def simulator(host, port, threads, state_file):
    """Serve the local Digital Post (NgDP) simulator: the NgDP REST API plus fault switches under /_sim/."""
    from waitress import serve as waitress_serve

    from server.post.simulator import create_simulator

    settings = current_app.config["SAGSPOST"]
    port = port or settings.simulator_port
    state_file = state_file or Path(settings.simulator_state_file or settings.data_dir / "post-simulator.sqlite")
    app = create_simulator(state_file)
    click.echo(f"Digital Post simulator on http://{host}:{port}/apis/v1 (switches under /_sim/), state in {state_file}")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="sagspost-simulator")
    finally:
        app.extensions["post_simulator"].close()


@main.command("manifest")
@click.option("--base-url", required=True, help="Where the add-in is served, e.g. https://sagspost.example.dk")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--google", is_flag=True, help="Write the Google Workspace add-on's deployment file instead.")
@with_appcontext
def manifest(base_url: str, out_dir: Path, google: bool):
    """Write the Office add-in manifests (Outlook, Word + Excel, Microsoft 365 unified) for a base URL,
    or with --google the Google Workspace add-on's deployment file."""
    from server.addins import manifests
    from server.google import deployment

    if google:
        click.echo(deployment.write(out_dir, base_url))
        return
    for path in manifests.write_all(out_dir, base_url, current_app.config["SAGSPOST"].addin_id):
        click.echo(path)


@main.command("serve-https")
@click.option("--host", default="localhost")
@click.option("--port", default=3000, type=int)
@with_appcontext
def serve_https(host: str, port: int):
    """Serve the app over HTTPS with a self-signed certificate, for loading the Office add-in locally."""
    from werkzeug.serving import run_simple

    from server.addins.devcert import ensure_certificate

    cert, key = ensure_certificate(current_app.config["SAGSPOST"].data_dir / "tls", host)
    click.echo(f"Sagspost on https://{host}:{port} (certificate {cert}); manifests at /manifest/outlook.xml and /manifest/office.xml")
    run_simple(host, port, current_app._get_current_object(), ssl_context=(str(cert), str(key)), threaded=True)


if __name__ == "__main__":
    main()
