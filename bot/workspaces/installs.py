"""Installing through "Add to Slack": Bolt's OAuth flow over slack_sdk's SQLAlchemy stores.

The stores keep their rows in the app's own database (tables from migration 0019, declared in
storage/installations.py). Bolt authorizes each request from the installation store, so every
listener's `client` carries that workspace's token; jobs and outbox effects find it through
`InstalledTokens` (`Runtime.for_team`).
"""

from __future__ import annotations

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import OAuthSettings as OAuthConfig
from storage.installations import BOTS, INSTALLATIONS
from storage.models import Workspace
from storage.reviews import workspace as workspace_row

BOT_SCOPES = (
    "channels:history",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "im:history",
    "im:write",
    "usergroups:read",
    "users:read",
    "users:read.email",
)
"""What the install asks for: manifest.yml's `oauth_config.scopes.bot`, which stays the one
source of truth (tests/workspaces/test_oauth.py fails when the two differ). The manifest is not
shipped inside the package, hence the copy."""

STATE_SECONDS = 600  # an "Add to Slack" click is good for ten minutes


def installation_store(engine: Engine, client_id: str) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(
        client_id=client_id,
        engine=engine,
        bots_table_name=BOTS,
        installations_table_name=INSTALLATIONS,
    )


def oauth_settings(config: OAuthConfig, engine: Engine) -> OAuthSettings:
    """Bolt's settings for GET /slack/install and GET /slack/oauth_redirect."""
    return OAuthSettings(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=list(BOT_SCOPES),
        redirect_uri=config.redirect_uri,
        authorization_url=config.authorize_url,
        installation_store=installation_store(engine, config.client_id),
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine),
        state_expiration_seconds=STATE_SECONDS,
    )


class InstalledTokens:
    """A workspace's bot token from its installation (`Runtime.tokens` in OAuth mode).

    A workspace of an Enterprise Grid org is served by its own install, or else by the org-wide
    one (`is_enterprise_install`); the org of a workspace is remembered on its row when its first
    request arrives, since jobs and effects only know the team.
    """

    def __init__(self, store: SQLAlchemyInstallationStore, engine: Engine) -> None:
        self.store, self.engine = store, engine
        self._known: set[tuple[str, str]] = set()  # (team, org) already on the workspace row

    def remember_org(self, team_id: str, enterprise_id: str | None) -> None:
        """Record a workspace's Enterprise Grid org (once per process), so its jobs and effects
        find an org-wide install; requests name the org, jobs only the team."""
        if enterprise_id is None or (team_id, enterprise_id) in self._known:
            return
        with Session(self.engine) as session, session.begin():
            row = workspace_row(session, team_id)
            if row.enterprise_id != enterprise_id:
                row.enterprise_id = enterprise_id
        self._known.add((team_id, enterprise_id))

    def bot_token(self, team_id: str, enterprise_id: str | None = None) -> str | None:
        if enterprise_id is None:
            with Session(self.engine) as session:
                enterprise_id = session.scalar(
                    select(Workspace.enterprise_id).where(Workspace.team_id == team_id)
                )
        bot = self.store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id:
            bot = self.store.find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        return bot.bot_token if bot is not None else None

    def installed_teams(self) -> list[str]:
        """Every workspace served now: installed ones, and the known workspaces of org installs."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(
                    self.store.bots.c.enterprise_id,
                    self.store.bots.c.team_id,
                    self.store.bots.c.is_enterprise_install,
                ).where(self.store.bots.c.client_id == self.store.client_id)
            ).all()
            teams = {team for _, team, org in rows if team and not org}
            orgs = {enterprise for enterprise, _, org in rows if org and enterprise}
            if orgs:
                teams |= set(
                    session.scalars(
                        select(Workspace.team_id).where(Workspace.enterprise_id.in_(orgs))
                    )
                )
        return sorted(teams)
