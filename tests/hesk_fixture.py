"""A HESK database in MariaDB, as HESK's own install and upgrade scripts declare it.

Two generations: "3.4" (requester in ``name``/``email``, ``priority`` an ENUM of
'0'..'3') and "3.6" (``u_name``/``u_email`` and a ``hesk_customers`` table, ``priority``
a TINYINT). Column types, defaults, MyISAM and utf8 are those of HESK's schema (a
phpMyAdmin dump of a HESK 3.4 install was the reference). Only the tables the
importer reads are created.

Values go in the way HESK writes them: ``escape`` is ``hesk_input`` (htmlspecialchars
plus the backtick), ``body`` adds ``nl2br`` and ``hesk_makeURL``'s links. Used by
tests/test_import_hesk.py and benchmarks/hesk_import.py.
"""

import os
import re
from urllib.parse import urlparse

MARIADB_URL = os.environ.get("HESK_TEST_MARIADB", "mysql://root@127.0.0.1:3306/")
CUSTOM_FIELDS = 50


def connect(database=None):
    """A root connection to the test MariaDB (raises when there is none)."""
    import pymysql  # optional dependency: callers skip when it is missing

    url = urlparse(MARIADB_URL)
    return pymysql.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=database,
        charset="utf8mb4",
        autocommit=True,
        connect_timeout=3,
    )


def escape(text: str) -> str:
    """What ``hesk_input`` stores for a name, a subject or a custom field."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#039;")
        .replace("`", "&#96;")
    )


_URL = re.compile(r"(https?://[^\s<&]+(?:&amp;[^\s<&]+)*)")


def _link(match: re.Match) -> str:
    url = match.group(1)
    shown = url if len(url) <= 50 else url[:30] + "..." + url[-10:]
    return f'<a href="{url}" rel="nofollow" target="_blank">{shown}</a>'


def body(text: str) -> str:
    """What HESK stores for a message: escaped, auto-linked, ``nl2br``'d."""
    escaped = _URL.sub(_link, escape(text))
    return escaped.replace("\r\n", "\n").replace("\n", "<br />\r\n")


def _ticket_table(prefix: str, generation: str) -> str:
    requester = (
        "`u_name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',\n"
        "  `u_email` varchar(1000) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',"
        if generation == "3.6"
        else "`name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',\n"
        "  `email` varchar(1000) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',"
    )
    priority = (
        "`priority` tinyint(3) unsigned NOT NULL DEFAULT '3',"
        if generation == "3.6"
        else "`priority` enum('0','1','2','3') COLLATE utf8_unicode_ci NOT NULL DEFAULT '3',"
    )
    customs = "\n".join(
        f"  `custom{n}` mediumtext COLLATE utf8_unicode_ci NOT NULL,"
        for n in range(1, CUSTOM_FIELDS + 1)
    )
    return f"""CREATE TABLE `{prefix}tickets` (
  `id` mediumint(8) unsigned NOT NULL AUTO_INCREMENT,
  `trackid` varchar(13) COLLATE utf8_unicode_ci NOT NULL,
  {requester}
  `category` smallint(5) unsigned NOT NULL DEFAULT '1',
  {priority}
  `subject` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `message` mediumtext COLLATE utf8_unicode_ci NOT NULL,
  `message_html` mediumtext COLLATE utf8_unicode_ci,
  `dt` timestamp NOT NULL DEFAULT '2000-01-01 00:00:00',
  `lastchange` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `firstreply` timestamp NULL DEFAULT NULL,
  `closedat` timestamp NULL DEFAULT NULL,
  `articles` varchar(255) COLLATE utf8_unicode_ci DEFAULT NULL,
  `ip` varchar(45) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `language` varchar(50) COLLATE utf8_unicode_ci DEFAULT NULL,
  `status` tinyint(3) unsigned NOT NULL DEFAULT '0',
  `openedby` mediumint(8) DEFAULT '0',
  `firstreplyby` smallint(5) unsigned DEFAULT NULL,
  `closedby` mediumint(8) DEFAULT NULL,
  `replies` smallint(5) unsigned NOT NULL DEFAULT '0',
  `staffreplies` smallint(5) unsigned NOT NULL DEFAULT '0',
  `owner` smallint(5) unsigned NOT NULL DEFAULT '0',
  `assignedby` mediumint(8) DEFAULT NULL,
  `time_worked` time NOT NULL DEFAULT '00:00:00',
  `lastreplier` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `replierid` smallint(5) unsigned DEFAULT NULL,
  `archive` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `locked` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `attachments` mediumtext COLLATE utf8_unicode_ci NOT NULL,
  `merged` mediumtext COLLATE utf8_unicode_ci NOT NULL,
  `history` mediumtext COLLATE utf8_unicode_ci NOT NULL,
{customs}
  `due_date` timestamp NULL DEFAULT NULL,
  `overdue_email_sent` tinyint(1) DEFAULT '0',
  PRIMARY KEY (`id`),
  UNIQUE KEY `trackid` (`trackid`),
  KEY `archive` (`archive`),
  KEY `categories` (`category`),
  KEY `statuses` (`status`),
  KEY `owner` (`owner`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci"""


def schema(prefix: str = "hesk_", generation: str = "3.4") -> list[str]:
    tables = [
        _ticket_table(prefix, generation),
        f"""CREATE TABLE `{prefix}replies` (
  `id` mediumint(8) unsigned NOT NULL AUTO_INCREMENT,
  `replyto` mediumint(8) unsigned NOT NULL DEFAULT '0',
  `name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `message` mediumtext COLLATE utf8_unicode_ci NOT NULL,
  `message_html` mediumtext COLLATE utf8_unicode_ci,
  `dt` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `attachments` mediumtext COLLATE utf8_unicode_ci,
  `staffid` smallint(5) unsigned NOT NULL DEFAULT '0',
  `rating` enum('1','5') COLLATE utf8_unicode_ci DEFAULT NULL,
  `read` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  PRIMARY KEY (`id`),
  KEY `replyto` (`replyto`,`dt`,`staffid`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci""",
        f"""CREATE TABLE `{prefix}notes` (
  `id` mediumint(8) unsigned NOT NULL AUTO_INCREMENT,
  `ticket` mediumint(8) unsigned NOT NULL,
  `who` smallint(5) unsigned NOT NULL,
  `dt` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `message` mediumtext COLLATE utf8_unicode_ci NOT NULL,
  `attachments` mediumtext COLLATE utf8_unicode_ci NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ticketid` (`ticket`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci""",
        f"""CREATE TABLE `{prefix}attachments` (
  `att_id` mediumint(8) unsigned NOT NULL AUTO_INCREMENT,
  `ticket_id` varchar(13) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `saved_name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `real_name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `size` int(10) unsigned NOT NULL DEFAULT '0',
  `type` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  PRIMARY KEY (`att_id`),
  KEY `ticket_id` (`ticket_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci""",
        f"""CREATE TABLE `{prefix}categories` (
  `id` smallint(5) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `cat_order` smallint(5) unsigned NOT NULL DEFAULT '0',
  `autoassign` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '1',
  `type` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `priority` enum('0','1','2','3') COLLATE utf8_unicode_ci NOT NULL DEFAULT '3',
  PRIMARY KEY (`id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci""",
        f"""CREATE TABLE `{prefix}users` (
  `id` smallint(5) unsigned NOT NULL AUTO_INCREMENT,
  `user` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `pass` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `isadmin` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `email` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `signature` varchar(1000) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `language` varchar(50) COLLATE utf8_unicode_ci DEFAULT NULL,
  `categories` varchar(500) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  PRIMARY KEY (`id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci""",
        f"""CREATE TABLE `{prefix}custom_fields` (
  `id` tinyint(3) unsigned NOT NULL AUTO_INCREMENT,
  `use` enum('0','1','2') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `place` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `type` varchar(20) COLLATE utf8_unicode_ci NOT NULL DEFAULT 'text',
  `req` enum('0','1','2') COLLATE utf8_unicode_ci NOT NULL DEFAULT '0',
  `category` text COLLATE utf8_unicode_ci,
  `name` text COLLATE utf8_unicode_ci,
  `value` text COLLATE utf8_unicode_ci,
  `order` smallint(5) unsigned NOT NULL DEFAULT '10',
  PRIMARY KEY (`id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci""",
        f"""CREATE TABLE `{prefix}custom_statuses` (
  `id` tinyint(3) unsigned NOT NULL AUTO_INCREMENT,
  `name` text COLLATE utf8_unicode_ci NOT NULL,
  `color` varchar(6) COLLATE utf8_unicode_ci NOT NULL,
  `can_customers_change` enum('0','1') COLLATE utf8_unicode_ci NOT NULL DEFAULT '1',
  `order` smallint(5) unsigned NOT NULL DEFAULT '10',
  PRIMARY KEY (`id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci""",
    ]
    if generation == "3.6":
        tables.append(
            f"""CREATE TABLE `{prefix}customers` (
  `id` mediumint(8) unsigned NOT NULL AUTO_INCREMENT,
  `pass` varchar(255) COLLATE utf8_unicode_ci DEFAULT NULL,
  `name` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `email` varchar(255) COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
  `language` varchar(50) COLLATE utf8_unicode_ci DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci"""
        )
    return tables


def create_database(name: str, *, prefix: str = "hesk_", generation: str = "3.4"):
    """A fresh, empty HESK database ``name``; returns a connection to it."""
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8 COLLATE utf8_unicode_ci")
        cur.execute(f"USE `{name}`")
        # HESK writes TIMESTAMPs in the server's zone; the fixture writes UTC.
        cur.execute("SET time_zone = '+00:00'")
        for statement in schema(prefix, generation):
            cur.execute(statement)
    return conn


def drop_database(name: str) -> None:
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def insert(conn, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    cols = ", ".join(f"`{c}`" for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO `{table}` ({cols}) VALUES ({marks})",
            [tuple(r[c] for c in columns) for r in rows],
        )


def ticket_row(generation: str, **values) -> dict:
    """A full hesk_tickets row: HESK's NOT NULL text columns need a value."""
    row = {
        "attachments": "",
        "merged": "",
        "history": "",
        **{f"custom{n}": "" for n in range(1, CUSTOM_FIELDS + 1)},
    }
    row.update(values)
    if generation == "3.6":
        row["u_name"] = row.pop("name")
        row["u_email"] = row.pop("email")
        row["priority"] = int(row["priority"])
    else:
        row["priority"] = str(row["priority"])
    return row
