//! Just enough DER reading for key sniffing and certificate SNs. Every read is bounds-checked.

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const OID: u8 = 0x06;
pub(crate) const BIT_STRING: u8 = 0x03;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// The whole element, header included.
    pub raw: &'a [u8],
}

pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn read(&mut self) -> Result<Tlv<'a>, &'static str> {
        let d = self.data;
        if d.len() < 2 {
            return Err("truncated element");
        }
        let tag = d[0];
        if tag & 0x1f == 0x1f {
            return Err("multi-byte tags are not supported");
        }
        let (len, hdr) = match d[1] {
            n if n < 0x80 => (n as usize, 2),
            0x80 => return Err("indefinite length"),
            n => {
                let k = (n & 0x7f) as usize;
                if k > 4 || d.len() < 2 + k {
                    return Err("bad length");
                }
                let mut len = 0usize;
                for &b in &d[2..2 + k] {
                    len = (len << 8) | b as usize;
                }
                (len, 2 + k)
            }
        };
        let end = hdr.checked_add(len).ok_or("bad length")?;
        if d.len() < end {
            return Err("truncated element");
        }
        self.data = &d[end..];
        Ok(Tlv { tag, content: &d[hdr..end], raw: &d[..end] })
    }

    pub fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, &'static str> {
        let t = self.read()?;
        if t.tag != tag {
            return Err("unexpected element");
        }
        Ok(t)
    }
}

/// Reads `data` as exactly one element with `tag` and returns a reader over its content.
pub(crate) fn single(data: &[u8], tag: u8) -> Result<Reader<'_>, &'static str> {
    let mut r = Reader::new(data);
    let t = r.expect(tag)?;
    if !r.is_empty() {
        return Err("trailing data");
    }
    Ok(Reader::new(t.content))
}

/// Dotted-decimal form of an OID's content bytes.
pub(crate) fn oid_string(content: &[u8]) -> Result<String, &'static str> {
    if content.is_empty() {
        return Err("empty OID");
    }
    let mut parts: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for (i, &b) in content.iter().enumerate() {
        if v > (u64::MAX >> 7) {
            return Err("OID arc too large");
        }
        v = (v << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (v / 40).min(2);
                parts.push(first);
                parts.push(v - first * 40);
            } else {
                parts.push(v);
            }
            v = 0;
        } else if i == content.len() - 1 {
            return Err("truncated OID");
        }
    }
    Ok(parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("."))
}

/// Unsigned big-endian bytes to decimal.
pub(crate) fn be_to_decimal(bytes: &[u8]) -> String {
    let mut num: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    if num.is_empty() {
        return "0".into();
    }
    let mut digits = Vec::new();
    while !num.is_empty() {
        let mut rem = 0u32;
        let mut next = Vec::with_capacity(num.len());
        for &b in &num {
            let cur = (rem << 8) | b as u32;
            let q = cur / 10;
            rem = cur % 10;
            if !(next.is_empty() && q == 0) {
                next.push(q as u8);
            }
        }
        digits.push(b'0' + rem as u8);
        num = next;
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        assert_eq!(be_to_decimal(&[0]), "0");
        assert_eq!(be_to_decimal(&[0x01, 0x00]), "256");
        assert_eq!(be_to_decimal(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "18446744073709551615");
    }

    #[test]
    fn oid() {
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]).unwrap(),
            "1.2.840.113549.1.1.11"
        );
        assert!(oid_string(&[0x86]).is_err());
    }

    #[test]
    fn reader_bounds() {
        assert!(Reader::new(&[0x30, 0x05, 0x01]).read().is_err());
        assert!(Reader::new(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).read().is_err());
        assert!(Reader::new(&[0x30]).read().is_err());
        let t = Reader::new(&[0x02, 0x01, 0x05]).read().unwrap();
        assert_eq!(t.content, &[5]);
    }
}
