package dev.jobworth.interop;

/** GB 11643 resident-ID check digits, for building valid and invalid cert_no values. */
final class Ids {
    private static final int[] W = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};

    private Ids() {}

    static boolean validResidentId(String id) {
        if (!id.matches("\\d{17}[\\dX]")) return false;
        int sum = 0;
        for (int i = 0; i < 17; i++) sum += W[i] * (id.charAt(i) - '0');
        return "10X98765432".charAt(sum % 11) == id.charAt(17);
    }

    /** A valid ID that differs from id in digit 17 (check digit recomputed). */
    static String anotherValidId(String id) {
        String body = id.substring(0, 16) + (char) ('0' + ((id.charAt(16) - '0' + 1) % 10));
        for (char d : "0123456789X".toCharArray()) {
            if (validResidentId(body + d)) return body + d;
        }
        throw new IllegalStateException("no check digit for " + body);
    }

    /** id with a check digit that is wrong. */
    static String wrongCheckDigit(String id) {
        for (char d : "0123456789X".toCharArray()) {
            String c = id.substring(0, 17) + d;
            if (!validResidentId(c)) return c;
        }
        throw new IllegalStateException();
    }
}
