//! A PostgreSQL database of its own for each test, on the server that
//! `WERKTAFEL_TEST_PG` names (test.sh starts a private one), dropped again
//! when the test ends.

/// The variable naming the PostgreSQL server the tests may use.
pub const TEST_PG: &str = "WERKTAFEL_TEST_PG";

/// A fresh, empty database; dropped (with any connection left) on drop.
pub struct TestDb {
    admin: String,
    name: String,
    /// `postgres://…/wt_test_…`, for `werktafel serve --store`.
    pub url: String,
}

impl TestDb {
    /// Creates the database. Fails, saying how to get a server, when
    /// `WERKTAFEL_TEST_PG` is unset: these tests never pass unrun.
    pub fn create() -> anyhow::Result<TestDb> {
        let Ok(admin) = std::env::var(TEST_PG) else {
            anyhow::bail!(
                "{TEST_PG} is not set, so the PostgreSQL store cannot be tested. \
                 ./test.sh starts a private PostgreSQL itself when it is installed \
                 (Debian: apt-get install postgresql); or point {TEST_PG} at a server \
                 where this user may create databases, e.g. \
                 {TEST_PG}=postgres://postgres@127.0.0.1:5432/postgres"
            );
        };
        let name = format!("wt_test_{:016x}", rand::random::<u64>());
        let config: postgres::Config = admin.parse()?;
        let url = with_database(&admin, &name)?;
        admin_sql(&config, format!("CREATE DATABASE {name}"))?;
        Ok(TestDb { admin, name, url })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(config) = self.admin.parse::<postgres::Config>() {
            let _ = admin_sql(
                &config,
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            );
        }
    }
}

/// Runs `sql` on a connection of its own, on a thread of its own: the
/// synchronous client must not run inside the tests' async runtime.
fn admin_sql(config: &postgres::Config, sql: String) -> anyhow::Result<()> {
    let config = config.clone();
    std::thread::spawn(move || -> anyhow::Result<()> {
        let mut client = config.connect(postgres::NoTls)?;
        client.batch_execute(&sql)?;
        Ok(())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the PostgreSQL admin thread panicked"))?
}

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let rest = base
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("{TEST_PG}={url} is no postgres:// URL"))?;
    let host_end = rest
        .find('/')
        .map_or(base.len(), |i| base.len() - rest.len() + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if !query.is_empty() {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        let url = |u| with_database(u, "wt").unwrap();
        assert_eq!(url("postgres://p@h:1/postgres"), "postgres://p@h:1/wt");
        assert_eq!(url("postgres://p@h:1"), "postgres://p@h:1/wt");
        assert_eq!(
            url("postgresql://h/x?sslmode=disable"),
            "postgresql://h/wt?sslmode=disable"
        );
    }
}
