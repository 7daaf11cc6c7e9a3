/**
 * S3 event JSON for the bucket's rule: the emulator's proxy sends these (per the configuration
 * put on the bucket, see provision.ts); kept here with the rule's id as the configuration id
 * for tests and tools that build events by hand.
 */
import { s3EventBody as emulatorEventBody, type CreatedObject as EmulatorCreatedObject } from "@strata/emulator";
import { matchesUploadNotification, UPLOAD_NOTIFICATION } from "@strata/lambda/deploy";

export { encodeS3EventKey, s3TestEventBody } from "@strata/emulator";

export type CreatedObject = Omit<EmulatorCreatedObject, "configurationId"> & { configurationId?: string };

/** One notification body (`{"Records":[…]}`), S3's event structure 2.1, for the upload rule unless told. */
export function s3EventBody(o: CreatedObject): string {
  return emulatorEventBody({ ...o, configurationId: o.configurationId ?? UPLOAD_NOTIFICATION.name });
}

/** Whether the bucket's rule selects this event: the same test S3 applies. */
export function shouldNotify(eventName: string, key: string): boolean {
  return matchesUploadNotification(eventName, key);
}
