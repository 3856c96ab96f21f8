#!/usr/bin/env python3
"""Open-Banking-like schema, data and load for database backup tests.

usage: ob_data.py schema postgres|mariadb          DDL
       ob_data.py data postgres|mariadb N [SEED]   N consents with bindings, tokens with scopes,
                                                    revocations, registry blobs, audit rows
       ob_data.py tokens postgres|mariadb N [SEED] N new access tokens with their scopes
       ob_data.py audit postgres|mariadb N         N new audit rows
       ob_data.py load postgres|mariadb [SEED]     an endless stream of transactions that keep
                                                    the invariants (pipe into psql / mariadb)
       ob_data.py invariants postgres|mariadb      queries that must each return 0
       ob_data.py tables                           the table names
Tables and columns follow WSO2 OB 1.5 (UK consents, IDN_OAUTH2 tokens, REG_CONTENT).
Invariants: an Authorised consent has exactly one binding row and only Authorised consents
have one; every access token has a scope row.
"""
import random, sys, time, uuid

TABLES = ["UK_ACCOUNT_INITIATION", "UK_ACCOUNT_CONSENT_BINDING", "UK_ACCOUNT_CONSENT_REV_HISTORY",
          "IDN_OAUTH2_ACCESS_TOKEN", "IDN_OAUTH2_ACCESS_TOKEN_SCOPE", "REG_CONTENT", "AUDIT_LOG"]


def schema(dialect):
    pg = dialect == "postgres"
    text, json_type = ("TEXT", "JSONB") if pg else ("LONGTEXT", "LONGTEXT")
    blob = "BYTEA" if pg else "LONGBLOB"
    ts = "TIMESTAMP(6)" if pg else "DATETIME(6)"
    serial = "BIGSERIAL" if pg else "BIGINT AUTO_INCREMENT"
    boolean = "BOOLEAN"
    engine = "" if pg else " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    return f"""
CREATE TABLE UK_ACCOUNT_INITIATION (ID VARCHAR(64) PRIMARY KEY, REQUEST {json_type} NOT NULL,
  CREATED_TIMESTAMP BIGINT NOT NULL, STATUS VARCHAR(50) NOT NULL, CLIENT_ID VARCHAR(255),
  STATUS_UPDATED_TIMESTAMP {ts}, SPEC_VERSION VARCHAR(10) DEFAULT 'v3.1'){engine};
CREATE INDEX IDX_INIT_STATUS ON UK_ACCOUNT_INITIATION (STATUS);
CREATE TABLE UK_ACCOUNT_CONSENT_BINDING (USER_ID VARCHAR(255) NOT NULL, CONSENT_ID VARCHAR(64) NOT NULL,
  ACCOUNT_ID VARCHAR(255) NOT NULL, TIMESTAMP BIGINT, COLLECTION_METHOD VARCHAR(50),
  PRIMARY KEY (CONSENT_ID, ACCOUNT_ID),
  FOREIGN KEY (CONSENT_ID) REFERENCES UK_ACCOUNT_INITIATION (ID)){engine};
CREATE TABLE UK_ACCOUNT_CONSENT_REV_HISTORY (ID {serial} PRIMARY KEY, CONSENT_ID VARCHAR(64) NOT NULL,
  REVOCATION_USER VARCHAR(255), REVOCATION_REASON {text}, AMOUNT NUMERIC(14,2)){engine};
CREATE TABLE IDN_OAUTH2_ACCESS_TOKEN (TOKEN_ID VARCHAR(64) PRIMARY KEY, ACCESS_TOKEN VARCHAR(2048),
  REFRESH_TOKEN VARCHAR(2048), CONSUMER_KEY_ID INTEGER, AUTHZ_USER VARCHAR(100), TENANT_ID INTEGER DEFAULT -1234,
  TIME_CREATED {ts}, VALIDITY_PERIOD BIGINT, TOKEN_STATE VARCHAR(25) DEFAULT 'ACTIVE', IS_ACTIVE {boolean},
  SUBJECT_IDENTIFIER VARCHAR(255)){engine};
CREATE TABLE IDN_OAUTH2_ACCESS_TOKEN_SCOPE (TOKEN_ID VARCHAR(64) NOT NULL, TOKEN_SCOPE VARCHAR(60) NOT NULL,
  TENANT_ID INTEGER DEFAULT -1, PRIMARY KEY (TOKEN_ID, TOKEN_SCOPE),
  FOREIGN KEY (TOKEN_ID) REFERENCES IDN_OAUTH2_ACCESS_TOKEN (TOKEN_ID) ON DELETE CASCADE){engine};
CREATE TABLE REG_CONTENT (REG_CONTENT_ID {serial} PRIMARY KEY, REG_CONTENT_DATA {blob},
  REG_TENANT_ID INTEGER DEFAULT 0){engine};
CREATE TABLE AUDIT_LOG (MESSAGE {text}, CREATED {ts}, SEVERITY SMALLINT){engine};
"""


def quote(value, dialect):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, bytes):
        return ("'\\x%s'::bytea" % value.hex()) if dialect == "postgres" else ("X'%s'" % value.hex())
    text = value.replace("'", "''")
    if dialect == "mariadb":
        text = text.replace("\\", "\\\\")
    return ("E'%s'" % text.replace("\\", "\\\\")) if dialect == "postgres" and "\\" in text else "'%s'" % text


def row(table, values, dialect):
    return "INSERT INTO %s VALUES (%s);" % (table, ", ".join(quote(v, dialect) for v in values))


def consent(rng, status):
    cid = str(uuid.UUID(int=rng.getrandbits(128)))
    body = '{"Data": {"Permissions": ["ReadAccountsDetail", "ReadBalances"], "ExpirationDateTime": "2027-0%d-01T00:00:00+00:00", "TransactionFromDateTime": "2026-01-01T00:00:00+00:00"}, "Risk": {}, "Nonce": "%032x"}' % (
        rng.randint(1, 9), rng.getrandbits(128))
    stamp = "2026-11-%02d %02d:%02d:%02d.%06d" % (rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
                                                  rng.randint(0, 59), rng.randint(0, 999999))
    return cid, [cid, body, rng.randint(1_600_000_000, 1_800_000_000), status, "client-%d" % rng.randint(1, 50), stamp, "v3.1"]


def binding(rng, cid):
    return [("user%d@bank.example" % rng.randint(1, 999)) + "@carbon.super", cid, "ACC-%012d" % rng.randint(0, 10**12),
            rng.randint(1_600_000_000, 1_800_000_000), rng.choice(["redirect", "decoupled", None])]


def token(rng):
    tid = str(uuid.UUID(int=rng.getrandbits(128)))
    stamp = "2026-11-%02d 10:%02d:%02d.%06d" % (rng.randint(1, 28), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999))
    return tid, [tid, "%064x" % rng.getrandbits(256), "%064x" % rng.getrandbits(256), rng.randint(1, 100),
                 "user%d" % rng.randint(1, 999), -1234, stamp, rng.choice([3600000, 86400000, 9223372036854775807]),
                 "ACTIVE", rng.random() < 0.9, rng.choice([None, "sub-%d" % rng.randint(0, 9999)])]


def data(dialect, n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        status = rng.choice(["Authorised", "AwaitingAuthorisation", "Revoked"])
        cid, values = consent(rng, status)
        out.append(row("UK_ACCOUNT_INITIATION", values, dialect))
        if status == "Authorised":
            out.append(row("UK_ACCOUNT_CONSENT_BINDING", binding(rng, cid), dialect))
        if status == "Revoked":
            reason = rng.choice(["user request", "tab\there", "line1\nline2", "back\\slash", "ünïcødé ✓ 🏦", "quote'd", None])
            out.append("INSERT INTO UK_ACCOUNT_CONSENT_REV_HISTORY (CONSENT_ID, REVOCATION_USER, REVOCATION_REASON, AMOUNT) VALUES (%s, %s, %s, %s);" % (
                quote(cid, dialect), quote("user%d" % i, dialect), quote(reason, dialect), "%d.%02d" % (rng.randint(0, 10**8), rng.randint(0, 99))))
        tid, values = token(rng)
        out.append(row("IDN_OAUTH2_ACCESS_TOKEN", values, dialect))
        for scope in rng.sample(["openid", "accounts", "payments", "fundsconfirmations"], rng.randint(1, 3)):
            out.append(row("IDN_OAUTH2_ACCESS_TOKEN_SCOPE", [tid, scope, -1234], dialect))
        if i % 10 == 0:
            blob = bytes(range(256)) + rng.randbytes(rng.randint(0, 3000))
            out.append("INSERT INTO REG_CONTENT (REG_CONTENT_DATA, REG_TENANT_ID) VALUES (%s, %d);" % (quote(blob, dialect), rng.randint(-1234, 5)))
            out.append(row("AUDIT_LOG", ["event %d\twith tab" % i, "2026-11-25 05:00:%02d.%06d" % (i % 60, i), rng.randint(0, 5)], dialect))
    return "\n".join(out) + "\n"


def tokens(dialect, n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        tid, values = token(rng)
        out.append(row("IDN_OAUTH2_ACCESS_TOKEN", values, dialect))
        out.append(row("IDN_OAUTH2_ACCESS_TOKEN_SCOPE", [tid, "accounts", -1234], dialect))
    return "\n".join(out) + "\n"


def audit(dialect, n):
    return "".join(row("AUDIT_LOG", ["later event %d" % i, "2026-11-26 05:00:%02d.%06d" % (i % 60, i), 1], dialect) + "\n"
                   for i in range(n))


def load(dialect, seed):
    rng = random.Random(seed)
    authorised = []
    begin = "BEGIN;" if dialect == "postgres" else "START TRANSACTION;"
    while True:
        kind = rng.random()
        statements = []
        if kind < 0.4:
            cid, values = consent(rng, "Authorised")
            statements = [row("UK_ACCOUNT_INITIATION", values, dialect), row("UK_ACCOUNT_CONSENT_BINDING", binding(rng, cid), dialect)]
            authorised.append(cid)
        elif kind < 0.7:
            tid, values = token(rng)
            statements = [row("IDN_OAUTH2_ACCESS_TOKEN", values, dialect), row("IDN_OAUTH2_ACCESS_TOKEN_SCOPE", [tid, "accounts", -1234], dialect)]
        elif kind < 0.85 and authorised:
            cid = authorised.pop(rng.randrange(len(authorised)))
            statements = ["UPDATE UK_ACCOUNT_INITIATION SET STATUS = 'Revoked' WHERE ID = %s;" % quote(cid, dialect),
                          "DELETE FROM UK_ACCOUNT_CONSENT_BINDING WHERE CONSENT_ID = %s;" % quote(cid, dialect),
                          "INSERT INTO UK_ACCOUNT_CONSENT_REV_HISTORY (CONSENT_ID, REVOCATION_USER, REVOCATION_REASON, AMOUNT) VALUES (%s, 'load', 'revoked by load', 1.00);" % quote(cid, dialect)]
        else:
            cid, values = consent(rng, "AwaitingAuthorisation")
            statements = [row("UK_ACCOUNT_INITIATION", values, dialect)]
        sys.stdout.write(begin + "\n" + "\n".join(statements) + "\nCOMMIT;\n")
        sys.stdout.flush()
        time.sleep(0.002)


def invariants(dialect):
    return [
        "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION i WHERE i.STATUS = 'Authorised' AND "
        "(SELECT COUNT(*) FROM UK_ACCOUNT_CONSENT_BINDING b WHERE b.CONSENT_ID = i.ID) <> 1",
        "SELECT COUNT(*) FROM UK_ACCOUNT_CONSENT_BINDING b JOIN UK_ACCOUNT_INITIATION i ON i.ID = b.CONSENT_ID "
        "WHERE i.STATUS <> 'Authorised'",
        "SELECT COUNT(*) FROM IDN_OAUTH2_ACCESS_TOKEN t WHERE NOT EXISTS "
        "(SELECT 1 FROM IDN_OAUTH2_ACCESS_TOKEN_SCOPE s WHERE s.TOKEN_ID = t.TOKEN_ID)",
    ]


def main():
    what, args = sys.argv[1], sys.argv[2:]
    if what == "schema":
        print(schema(args[0]))
    elif what == "data":
        sys.stdout.write(data(args[0], int(args[1]), int(args[2]) if len(args) > 2 else 1))
    elif what == "tokens":
        sys.stdout.write(tokens(args[0], int(args[1]), int(args[2]) if len(args) > 2 else 3))
    elif what == "audit":
        sys.stdout.write(audit(args[0], int(args[1])))
    elif what == "load":
        try:
            load(args[0], int(args[1]) if len(args) > 1 else 2)
        except (BrokenPipeError, KeyboardInterrupt):
            pass
    elif what == "invariants":
        print("\n".join(invariants(args[0])))
    elif what == "tables":
        print("\n".join(TABLES))


main()
