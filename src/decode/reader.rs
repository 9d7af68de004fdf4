//! Checked big-endian reads over the bytes of a record or message, as TLS lays them out.

/// Checked big-endian reads over a byte slice: every read returns `None` instead of panicking
/// when the bytes run out.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let [b] = self.take(1)?.try_into().ok()?;
        Some(b)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    pub(crate) fn u24(&mut self) -> Option<usize> {
        let [a, b, c] = self.take(3)?.try_into().ok()?;
        Some(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
    }

    /// A u8-length-prefixed vector.
    pub(crate) fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(n.into())
    }

    /// A u16-length-prefixed vector.
    pub(crate) fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(n.into())
    }

    /// A u24-length-prefixed vector.
    pub(crate) fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.take(n)
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A list of u16s (cipher suites, signature schemes), `None` when its length is odd.
pub(crate) fn u16_list(bytes: &[u8]) -> Option<Vec<u16>> {
    let mut reader = Reader(bytes);
    let mut list = Vec::with_capacity(bytes.len() / 2);
    while !reader.is_empty() {
        list.push(reader.u16()?);
    }
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end_of_the_bytes() {
        let mut reader = Reader(&[1, 0, 2, 0, 0, 3, 9, 9, 9, 0, 5]);
        assert_eq!(reader.u8(), Some(1));
        assert_eq!(reader.u16(), Some(2));
        assert_eq!(reader.vec24(), Some(&[9, 9, 9][..]));
        // Declares 5 bytes, has none.
        assert_eq!(reader.vec16(), None);
        assert!(reader.is_empty());
        assert_eq!(u16_list(&[0x13, 0x01, 0x13]), None);
        assert_eq!(
            u16_list(&[0x13, 0x01, 0x13, 0x02]),
            Some(vec![0x1301, 0x1302])
        );
    }
}
