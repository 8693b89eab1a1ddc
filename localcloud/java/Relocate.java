import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import jdk.internal.org.objectweb.asm.ClassReader;
import jdk.internal.org.objectweb.asm.ClassWriter;
import jdk.internal.org.objectweb.asm.commons.ClassRemapper;
import jdk.internal.org.objectweb.asm.commons.Remapper;

/**
 * Relocates (shades) the classes of some jars into other packages, like the maven-shade-plugin's
 * relocations, so that the Iceberg runtime jar published on PyPI (which references its dependencies
 * under org.apache.iceberg.shaded.* but does not carry some of them) finds them.
 *
 * Uses the copy of ASM inside JDK 17 (java.base's jdk.internal.org.objectweb.asm), so nothing
 * has to be downloaded; compile and run it with
 * --add-exports java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED
 * --add-exports java.base/jdk.internal.org.objectweb.asm.commons=ALL-UNNAMED.
 *
 * Usage: Relocate OUT.jar FROM=TO[,FROM=TO...] IN.jar [IN.jar ...]
 * FROM and TO are package prefixes in dotted form, e.g. com.fasterxml.jackson=org.apache.iceberg.shaded.com.fasterxml.jackson
 */
public final class Relocate {
    /** prefix (slash form, ending in '/') -> replacement prefix (slash form). */
    private final Map<String, String> rules = new LinkedHashMap<>();

    private Relocate(String spec) {
        for (String rule : spec.split(",")) {
            String[] kv = rule.split("=", 2);
            if (kv.length != 2 || kv[0].isEmpty() || kv[1].isEmpty()) {
                throw new IllegalArgumentException("bad relocation rule '" + rule + "', expected FROM=TO");
            }
            rules.put(kv[0].replace('.', '/') + "/", kv[1].replace('.', '/') + "/");
        }
    }

    /** Maps an internal (slash) name, or null when no rule applies. */
    String mapSlashed(String name) {
        for (Map.Entry<String, String> r : rules.entrySet()) {
            if (name.startsWith(r.getKey())) {
                return r.getValue() + name.substring(r.getKey().length());
            }
        }
        return null;
    }

    /** Maps a dotted class or package name, or null when no rule applies. */
    String mapDotted(String name) {
        String m = mapSlashed(name.replace('.', '/'));
        return m == null ? null : m.replace('/', '.');
    }

    private final class Shader extends Remapper {
        @Override
        public String map(String internalName) {
            String m = mapSlashed(internalName);
            return m == null ? internalName : m;
        }

        // String constants that name a relocated class (Class.forName, ServiceLoader names,
        // reflection helpers) must move with it, as the shade plugin does.
        @Override
        public Object mapValue(Object value) {
            if (value instanceof String) {
                String s = (String) value;
                String m = mapSlashed(s);
                if (m != null) {
                    return m;
                }
                if (s.indexOf('/') < 0) {
                    m = mapDotted(s);
                    if (m != null) {
                        return m;
                    }
                }
                return s;
            }
            return super.mapValue(value);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    private static boolean skipped(String name) {
        String upper = name.toUpperCase();
        return name.equals("META-INF/MANIFEST.MF")
                // Multi-release variants and module descriptors would still name the old packages;
                // the base (Java 8) classes are enough for Java 17.
                || name.startsWith("META-INF/versions/")
                || name.endsWith("module-info.class")
                || (upper.startsWith("META-INF/") && (upper.endsWith(".SF") || upper.endsWith(".RSA")
                        || upper.endsWith(".DSA")))
                || name.startsWith("META-INF/maven/");
    }

    private void run(Path out, List<Path> inputs) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Created-By", "localcloud Relocate");
        Set<String> written = new HashSet<>();
        int classes = 0;
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (OutputStream fos = Files.newOutputStream(tmp); JarOutputStream jar = new JarOutputStream(fos, manifest)) {
            written.add("META-INF/MANIFEST.MF");
            written.add("META-INF/");
            for (Path input : inputs) {
                try (JarFile in = new JarFile(input.toFile())) {
                    Enumeration<JarEntry> entries = in.entries();
                    while (entries.hasMoreElements()) {
                        JarEntry e = entries.nextElement();
                        String name = e.getName();
                        if (e.isDirectory() || skipped(name)) {
                            continue;
                        }
                        byte[] data;
                        try (InputStream is = in.getInputStream(e)) {
                            data = readAll(is);
                        }
                        String outName;
                        if (name.endsWith(".class")) {
                            ClassReader reader = new ClassReader(data);
                            ClassWriter writer = new ClassWriter(0);
                            reader.accept(new ClassRemapper(writer, new Shader()), 0);
                            data = writer.toByteArray();
                            String m = mapSlashed(name);
                            outName = m == null ? name : m;
                            classes++;
                        } else if (name.startsWith("META-INF/services/")) {
                            String service = name.substring("META-INF/services/".length());
                            String ms = mapDotted(service);
                            outName = "META-INF/services/" + (ms == null ? service : ms);
                            StringBuilder sb = new StringBuilder();
                            for (String line : new String(data, StandardCharsets.UTF_8).split("\n")) {
                                String t = line.trim();
                                String ml = t.isEmpty() || t.startsWith("#") ? null : mapDotted(t);
                                sb.append(ml == null ? line : ml).append('\n');
                            }
                            data = sb.toString().getBytes(StandardCharsets.UTF_8);
                        } else {
                            String m = mapSlashed(name);
                            outName = m == null ? name : m;
                        }
                        if (!written.add(outName)) {
                            continue; // first jar wins (e.g. LICENSE/NOTICE present in several)
                        }
                        jar.putNextEntry(new JarEntry(outName));
                        jar.write(data);
                        jar.closeEntry();
                    }
                }
            }
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.println("Relocate: wrote " + classes + " classes from " + inputs.size() + " jars to " + out);
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: Relocate OUT.jar FROM=TO[,FROM=TO...] IN.jar [IN.jar ...]");
            System.exit(2);
        }
        List<Path> inputs = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            inputs.add(Paths.get(args[i]));
        }
        new Relocate(args[1]).run(Paths.get(args[0]), inputs);
    }
}
