package localcloud.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.logging.Logger;

import javax.sql.rowset.CachedRowSet;
import javax.sql.rowset.RowSetProvider;

/**
 * The local Glue runner's Iceberg JDBC catalogs: SQLite ({@code jdbc:localcloud-sqlite:<file>} =
 * {@code jdbc:sqlite:<file>}), shared by several Spark drivers at once.
 *
 * <p>On AWS a catalog commit is Glue's {@code UpdateTable}, a compare-and-swap that either wins or loses.
 * With SQLite, a pooled connection whose read snapshot is older than another driver's write gets
 * {@code SQLITE_BUSY_SNAPSHOT} (WAL: even a lone UPDATE reads before it writes) or {@code SQLITE_BUSY}:
 * neither a win nor a loss. This driver runs such an autocommit statement again on a fresh connection
 * (a fresh snapshot: a result set left open can pin the pooled connection's), backing off for at most 60 s,
 * where the compare-and-swap decides for real (a lost race is then Iceberg's CommitFailedException, as on
 * Glue). Inside an explicit transaction, or after the deadline, it reports SQLSTATE 40001 (serialization
 * failure), which Iceberg's JdbcClientPool retries on a fresh connection.
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
        String sqliteUrl = "jdbc:sqlite:" + url.substring(PREFIX.length());
        Properties sqliteInfo = CommitFault.withoutFault(info);
        Connection c = sqlite().connect(sqliteUrl, sqliteInfo);
        return c == null ? null : proxy(Connection.class,
                new Handler(c, new Origin(sqliteUrl, sqliteInfo, null, CommitFault.from(info))));
    }

    static boolean busy(Throwable t) {
        String m = t.getMessage();
        return t instanceof SQLException && m != null && (m.contains("SQLITE_BUSY") || m.contains("database is locked"));
    }

    /** Where a statement came from: enough to run it again on a fresh connection; a test's armed fault. */
    private record Origin(String url, Properties info, String sql, CommitFault fault) {
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> iface, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(SqliteSerializingDriver.class.getClassLoader(), new Class<?>[] {iface}, handler);
    }

    private static final class Handler implements InvocationHandler {
        private final Object target;
        private final Origin origin;
        private final List<Object[]> setters = new ArrayList<>(); // parameter calls of a PreparedStatement

        Handler(Object target, Origin origin) {
            this.target = target;
            this.origin = origin;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (target instanceof PreparedStatement && name.startsWith("set") && args != null && args.length >= 2
                    && args[0] instanceof Integer) {
                setters.add(new Object[] {method, args});
            } else if (target instanceof PreparedStatement && name.equals("clearParameters")) {
                setters.clear();
            }
            if (origin.fault() != null && target instanceof PreparedStatement && name.startsWith("execute")
                    && origin.fault().isTargetCommit(origin.sql(), setters)) {
                origin.fault().fire();
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (!busy(cause)) {
                    throw cause;
                }
                if (isRerunnable(name, args)) {
                    return rerunOnFreshConnections(method, args, cause);
                }
                throw new SQLException(cause.getMessage(), SERIALIZATION_FAILURE, cause);
            }
            if (result instanceof ResultSet) {
                // Read it all and close it now: an open result set keeps its statement's read transaction,
                // and in WAL mode that pins the connection's snapshot, so later reads on the pooled
                // connection would see an old catalog (and every compare-and-swap would fail).
                ResultSet rs = (ResultSet) result;
                CachedRowSet copy = RowSetProvider.newFactory().createCachedRowSet();
                try {
                    copy.populate(rs);
                } finally {
                    rs.close();
                }
                return copy;
            }
            if (result instanceof DatabaseMetaData) {
                return proxy(DatabaseMetaData.class, new Handler(result, origin));
            }
            if (result instanceof Statement && target instanceof Connection) {
                String sql = args != null && args.length > 0 && args[0] instanceof String ? (String) args[0] : null;
                Origin o = new Origin(origin.url(), origin.info(), sql, origin.fault());
                if (result instanceof CallableStatement) {
                    return proxy(CallableStatement.class, new Handler(result, o));
                }
                if (result instanceof PreparedStatement) {
                    return proxy(PreparedStatement.class, new Handler(result, o));
                }
                return proxy(Statement.class, new Handler(result, o));
            }
            return result;
        }

        /** A write of its own (autocommit) that met another connection's write changed nothing. */
        private boolean isRerunnable(String name, Object[] args) throws SQLException {
            if (!(target instanceof Statement) || !name.startsWith("execute") || name.equals("executeQuery")
                    || !((Statement) target).getConnection().getAutoCommit()) {
                return false;
            }
            boolean prepared = target instanceof PreparedStatement && (args == null || args.length == 0);
            return prepared ? origin.sql() != null : args != null && args.length == 1 && args[0] instanceof String;
        }

        /**
         * Run the statement again, each time on a new connection: a fresh read snapshot, where the pooled
         * connection may hold an old one (a result set left open pins it). Backs off; 60 s at most.
         */
        private Object rerunOnFreshConnections(Method method, Object[] args, Throwable first) throws Throwable {
            long deadline = System.nanoTime() + RETRY_DEADLINE_NANOS;
            long delayMs = 5;
            Throwable last = first;
            while (System.nanoTime() < deadline) {
                Thread.sleep(delayMs);
                delayMs = Math.min(delayMs * 2, 200);
                try (Connection fresh = sqlite().connect(origin.url(), origin.info())) {
                    if (target instanceof PreparedStatement) {
                        try (PreparedStatement ps = fresh.prepareStatement(origin.sql())) {
                            for (Object[] call : setters) {
                                ((Method) call[0]).invoke(ps, (Object[]) call[1]);
                            }
                            return method.invoke(ps, args);
                        }
                    }
                    try (Statement st = fresh.createStatement()) {
                        return method.invoke(st, args);
                    }
                } catch (InvocationTargetException e) {
                    last = e.getCause();
                    if (!busy(last)) {
                        throw last;
                    }
                }
            }
            throw new SQLException(last.getMessage(), SERIALIZATION_FAILURE, last);
        }
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
