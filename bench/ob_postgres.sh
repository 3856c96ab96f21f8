# Sourced by the benchmarks: an Open-Banking-like PostgreSQL database, the way bench/db.sh
# has always made it. ob_postgres_data DB ROWS fills DB (schema from tests/db/ob_data.py)
# with ROWS consents and ROWS tokens (1,200,000 make about 1 GB); psql reaches the server
# through PGHOST/PGPORT/PGUSER/PGPASSWORD.
ob_postgres_data() {
  local db=$1 rows=$2
  python3 "$root/tests/db/ob_data.py" schema postgres | psql -X -q -d "$db"
  echo "generating $rows consents and tokens in PostgreSQL..." >&2
  psql -X -q -d "$db" <<SQL
INSERT INTO UK_ACCOUNT_INITIATION
  SELECT gen_random_uuid()::text,
         jsonb_build_object('Data', jsonb_build_object('Permissions', jsonb_build_array('ReadAccountsDetail', 'ReadBalances'),
                            'ExpirationDateTime', (now() + random() * interval '365 days')::text), 'Risk', '{}'::jsonb,
                            'Nonce', md5(random()::text) || md5(random()::text)),
         (random() * 1e9)::bigint, (ARRAY['Authorised', 'AwaitingAuthorisation', 'Revoked'])[1 + floor(random() * 3)::int],
         'client-' || floor(random() * 50)::int, now() - random() * interval '300 days', 'v3.1'
  FROM generate_series(1, $rows);
INSERT INTO UK_ACCOUNT_CONSENT_BINDING
  SELECT 'user' || floor(random() * 1e6)::int || '@carbon.super', ID, 'ACC-' || md5(random()::text), (random() * 1e9)::bigint, 'redirect'
  FROM UK_ACCOUNT_INITIATION WHERE STATUS = 'Authorised';
INSERT INTO IDN_OAUTH2_ACCESS_TOKEN
  SELECT gen_random_uuid()::text, md5(random()::text) || md5(random()::text), md5(random()::text) || md5(random()::text),
         floor(random() * 100)::int, 'user' || floor(random() * 1e6)::int, -1234, now() - random() * interval '30 days',
         3600000, 'ACTIVE', random() < 0.9, NULL
  FROM generate_series(1, $rows);
INSERT INTO IDN_OAUTH2_ACCESS_TOKEN_SCOPE SELECT TOKEN_ID, 'accounts', -1234 FROM IDN_OAUTH2_ACCESS_TOKEN;
INSERT INTO REG_CONTENT (REG_CONTENT_DATA, REG_TENANT_ID)
  SELECT decode(string_agg(md5(random()::text || g::text), ''), 'hex'), -1234
  FROM generate_series(1, $rows / 20) r, generate_series(1, 64) g GROUP BY r;
VACUUM ANALYZE;
SQL
}
