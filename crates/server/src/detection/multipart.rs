//! Reading `multipart/form-data` bodies (RFC 7578), as `_import` receives its file.

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The form field's name.
    pub name: String,
    /// The file name, for a file.
    pub filename: Option<String>,
    /// The content.
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type.
///
/// # Errors
/// When the content type is not `multipart/form-data` or has no boundary.
pub fn boundary(content_type: &str) -> Result<String, String> {
    let mut pieces = content_type.split(';');
    let kind = pieces.next().unwrap_or("").trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return Err(format!("expected a multipart/form-data body with a [file], found content type [{content_type}]"));
    }
    for piece in pieces {
        if let Some((key, value)) = piece.split_once('=')
            && key.trim().eq_ignore_ascii_case("boundary")
        {
            let value = value.trim().trim_matches('"');
            if !value.is_empty() {
                return Ok(value.to_string());
            }
        }
    }
    Err("the multipart/form-data content type has no boundary".to_string())
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| &haystack[i..i + needle.len()] == needle)
}

/// A `name="value"` (or `name=value`) parameter of a `Content-Disposition` header.
fn parameter(header: &str, name: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    let key = format!("{name}=");
    let mut search = 0;
    while let Some(pos) = lower[search..].find(&key) {
        let start = search + pos;
        if matches!(lower[..start].chars().last(), Some(';' | ' ' | '\t')) {
            let rest = &header[start + key.len()..];
            if let Some(quoted) = rest.strip_prefix('"') {
                return Some(quoted[..quoted.find('"').unwrap_or(quoted.len())].to_string());
            }
            return Some(rest.split(';').next().unwrap_or("").trim().to_string());
        }
        search = start + key.len();
    }
    None
}

/// The parts of a `multipart/form-data` body.
///
/// # Errors
/// When the body does not start with the boundary or a part is cut short.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let delimiter = format!("--{boundary}").into_bytes();
    let Some(first) = find(body, &delimiter, 0) else {
        return Err("the multipart body does not contain its boundary".to_string());
    };
    let mut parts = Vec::new();
    let mut at = first + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        // the rest of the boundary line
        let Some(line_end) = find(body, b"\r\n", at) else {
            return Err("the multipart body ends inside a boundary line".to_string());
        };
        let head_start = line_end + 2;
        let Some(head_end) = find(body, b"\r\n\r\n", head_start) else {
            return Err("a part of the multipart body has no end of headers".to_string());
        };
        let headers = String::from_utf8_lossy(&body[head_start..head_end]).into_owned();
        let data_start = head_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let Some(data_end) = find(body, &closing, data_start) else {
            return Err("a part of the multipart body is not closed by its boundary".to_string());
        };
        let disposition =
            headers.split("\r\n").find(|l| l.to_ascii_lowercase().starts_with("content-disposition:")).unwrap_or("");
        parts.push(Part {
            name: parameter(disposition, "name").unwrap_or_default(),
            filename: parameter(disposition, "filename"),
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + closing.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_file_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rules.ndjson\"\r\n\
Content-Type: application/octet-stream\r\n\r\n{\"a\":1}\n{\"b\":2}\n\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ--\r\n";
        assert_eq!(boundary("multipart/form-data; boundary=XyZ").as_deref(), Ok("XyZ"));
        assert_eq!(boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(), Ok("XyZ"));
        assert!(boundary("application/json").is_err());
        let parts = parse(body, "XyZ").expect("parts");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].filename.as_deref(), Some("rules.ndjson"));
        assert_eq!(parts[0].data, b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(parts[1].name, "other");
        assert_eq!(parts[1].filename, None);
        assert!(parse(b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nabc", "XyZ").is_err());
        assert!(parse(b"nothing", "XyZ").is_err());
    }
}
