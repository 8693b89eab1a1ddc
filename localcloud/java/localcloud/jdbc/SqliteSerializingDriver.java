package localcloud.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The local Glue runner's Iceberg JDBC catalogs: SQLite ({@code jdbc:localcloud-sqlite:<file>} =
 * {@code jdbc:sqlite:<file>}), shared by several Spark drivers at once.
 *
 * <p>On AWS a catalog commit is Glue's {@code UpdateTable}, a compare-and-swap that either wins or loses.
 * With SQLite, a pooled connection whose read snapshot is older than another driver's write gets
 * {@code SQLITE_BUSY_SNAPSHOT} (WAL: even a lone UPDATE reads before it writes) or {@code SQLITE_BUSY}:
 * neither a win nor a loss. This driver runs such an autocommit statement again on a fresh snapshot
 * (backing off, for at most 60 s), where the compare-and-swap decides for real (a lost race is then
 * Iceberg's CommitFailedException, as on Glue). Otherwise, or after the deadline, it reports SQLSTATE 40001
 * (serialization failure), which Iceberg's JdbcClientPool retries on a fresh connection.
 */
public final class SqliteSerializingDriver implements Driver {
    public static final String PREFIX = "jdbc:localcloud-sqlite:";
    private static final String SERIALIZATION_FAILURE = "40001";
    private static final long RETRY_DEADLINE_NANOS = 60_000_000_000L;

    static {
        try {
            DriverManager.registerDriver(new SqliteSerializingDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static Driver sqlite() throws SQLException {
        try {
            return (Driver) Class.forName("org.sqlite.JDBC").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new SQLException("the SQLite JDBC driver (org.sqlite.JDBC) is not on the class path", e);
        }
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        Connection c = sqlite().connect("jdbc:sqlite:" + url.substring(PREFIX.length()), info);
        return c == null ? null : wrap(c, Connection.class);
    }

    static boolean busy(Throwable t) {
        String m = t.getMessage();
        return t instanceof SQLException && m != null && (m.contains("SQLITE_BUSY") || m.contains("database is locked"));
    }

    @SuppressWarnings("unchecked")
    static <T> T wrap(T target, Class<T> iface) {
        InvocationHandler handler = (proxy, method, args) -> invoke(target, method, args);
        return (T) Proxy.newProxyInstance(SqliteSerializingDriver.class.getClassLoader(), new Class<?>[] {iface}, handler);
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        Object result;
        long deadline = System.nanoTime() + RETRY_DEADLINE_NANOS;
        long delayMs = 5;
        while (true) {
            try {
                result = method.invoke(target, args);
                break;
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (!busy(cause)) {
                    throw cause;
                }
                // A statement of its own (autocommit) that met another connection's write changed nothing:
                // running it again, on a fresh snapshot, is running it a moment later. Inside an explicit
                // transaction only the caller can start over.
                if (!(target instanceof Statement && method.getName().startsWith("execute")
                        && ((Statement) target).getConnection().getAutoCommit())
                        || System.nanoTime() > deadline) {
                    throw new SQLException(cause.getMessage(), SERIALIZATION_FAILURE, cause);
                }
                Thread.sleep(delayMs);
                delayMs = Math.min(delayMs * 2, 200);
            }
        }
        if (result instanceof CallableStatement) {
            return wrap((CallableStatement) result, CallableStatement.class);
        }
        if (result instanceof PreparedStatement) {
            return wrap((PreparedStatement) result, PreparedStatement.class);
        }
        if (result instanceof Statement) {
            return wrap((Statement) result, Statement.class);
        }
        return result;
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) throws SQLException {
        return sqlite().getPropertyInfo("jdbc:sqlite:" + url.substring(PREFIX.length()), info);
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }
}
