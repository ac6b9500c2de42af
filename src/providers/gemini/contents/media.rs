//! Content parts → Gemini parts: text, and media (images, files, video) as inline data or
//! Files API / `gs://` references; the gateway never fetches a URL itself.

use super::{invalid, not_portable, text_part};
use crate::{
    api::ContentPart,
    error::GatewayError,
    providers::gemini::wire::{GeminiBlob, GeminiFileData, GeminiPart},
};

/// Where Files API URIs live; the gateway never fetches URLs itself.
const FILES_API_PREFIX: &str = "https://generativelanguage.googleapis.com/";

/// One content part; `None` for empty text (Gemini rejects empty parts).
pub(super) fn content_part(part: &ContentPart) -> Result<Option<GeminiPart>, GatewayError> {
    match part {
        ContentPart::InputImage {
            image_url, file_id, ..
        } => match (image_url, file_id) {
            (Some(url), _) => media_from_url(url, None, "image").map(Some),
            (None, Some(_)) => Err(not_portable("input_image.file_id")),
            (None, None) => Err(invalid("`input_image` needs an `image_url`.")),
        },
        ContentPart::InputFile {
            filename,
            file_data,
            file_url,
            file_id,
        } => match (file_data, file_url, file_id) {
            (Some(data), _, _) if data.starts_with("data:") => {
                media_from_url(data, filename.as_deref(), "file").map(Some)
            }
            (Some(data), _, _) => Ok(Some(inline(
                filename
                    .as_deref()
                    .and_then(guess_mime)
                    .unwrap_or("application/pdf"),
                data,
            ))),
            (None, Some(url), _) => media_from_url(url, filename.as_deref(), "file").map(Some),
            (None, None, Some(_)) => Err(not_portable("input_file.file_id")),
            (None, None, None) => Err(invalid("`input_file` needs `file_data` or `file_url`.")),
        },
        ContentPart::InputVideo { video_url } => media_from_url(video_url, None, "video").map(Some),
        other => Ok(other.text().filter(|text| !text.is_empty()).map(text_part)),
    }
}

/// `data:` URLs become `inlineData`; Files API / `gs://` (and YouTube, for video) URIs become
/// `fileData`. Anything else is rejected: the gateway does not fetch arbitrary URLs.
fn media_from_url(
    url: &str,
    filename: Option<&str>,
    what: &str,
) -> Result<GeminiPart, GatewayError> {
    if url.starts_with("data:") {
        let Some((mime, data)) = parse_data_url(url) else {
            return Err(invalid(format!(
                "The {what} `data:` URL must be base64 encoded with a media type (`data:<type>;base64,<data>`)."
            )));
        };
        return Ok(inline(mime, data));
    }
    let youtube = [
        "https://www.youtube.com/",
        "https://youtube.com/",
        "https://youtu.be/",
    ]
    .iter()
    .any(|p| url.starts_with(p));
    let files_api = url.starts_with(FILES_API_PREFIX) && url.contains("/files/");
    if files_api || url.starts_with("gs://") || (what == "video" && youtube) {
        let mime = filename.and_then(guess_mime).or_else(|| guess_mime(url));
        return Ok(GeminiPart {
            file_data: Some(GeminiFileData {
                mime_type: mime.map(str::to_owned),
                file_uri: url.to_owned(),
            }),
            ..GeminiPart::default()
        });
    }
    Err(invalid(format!(
        "Gemini models accept a {what} only as a base64 `data:` URL or a Gemini Files API / gs:// URI; \
         the gateway does not fetch remote URLs. Inline the {what} as a data URL."
    )))
}

fn inline(mime: &str, data: &str) -> GeminiPart {
    GeminiPart {
        inline_data: Some(GeminiBlob {
            mime_type: mime.to_owned(),
            data: data.to_owned(),
        }),
        ..GeminiPart::default()
    }
}

/// `data:<type>[;params];base64,<data>` → (`type`, `data`).
fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let (meta, data) = url.strip_prefix("data:")?.split_once(',')?;
    let meta = meta.strip_suffix(";base64")?;
    let mime = meta.split(';').next().unwrap_or_default().trim();
    (!mime.is_empty() && !data.is_empty()).then_some((mime, data))
}

/// The media type implied by a file name's extension.
fn guess_mime(name: &str) -> Option<&'static str> {
    let path = name.split(['?', '#']).next().unwrap_or_default();
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        _ => return None,
    })
}
