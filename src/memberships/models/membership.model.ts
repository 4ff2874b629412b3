import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { PROFILE_RESOURCE_TYPES, type ProfileResourceType } from 'src/memberships/fhir-user';
import type { MembershipEntity } from 'src/memberships/membership.entity';
import type { ProfileEntity } from 'src/memberships/profile.entity';

export const ProfileResourceTypeEnum = Object.fromEntries(
  PROFILE_RESOURCE_TYPES.map((t) => [t, t]),
) as { [K in ProfileResourceType]: K };
registerEnumType(ProfileResourceTypeEnum, {
  name: 'ProfileResourceType',
  description: 'FHIR resource type of a member profile',
});

/** The ways a token can name a member (issue 12): what an invite answers in `recognisedBy`. */
export enum RecognitionMethod {
  EXTERNAL_ID = 'EXTERNAL_ID',
  FHIR_USER = 'FHIR_USER',
  VERIFIED_EMAIL = 'VERIFIED_EMAIL',
}
registerEnumType(RecognitionMethod, {
  name: 'RecognitionMethod',
  description: 'How a token names a member',
  valuesMap: {
    EXTERNAL_ID: { description: "The token's `sub` is the membership's externalId" },
    FHIR_USER: {
      description:
        "The token's `fhirUser` is the profile's reference, or an identifier search for one of its identifiers",
    },
    VERIFIED_EMAIL: {
      description:
        'Token exchange by a client of the project with subjectResolution EMAIL: the verified `email` claim of an issuer with email matching on',
    },
  },
});

@ObjectType('MemberRecognition', {
  description: 'One way the member will be recognised: a token of `issuer` with `claim` = `value`',
})
export class MemberRecognition {
  @Field(() => RecognitionMethod)
  method: RecognitionMethod;

  @Field({ description: 'Trusted issuer name whose token must carry the claim' })
  issuer: string;

  @Field({ description: 'The claim: sub, fhirUser or email' })
  claim: string;

  @Field({
    description: 'The value it must have (fhirUser also as an absolute URL under fhir.base)',
  })
  value: string;
}

@ObjectType('Identifier')
export class IdentifierModel {
  @Field({ nullable: true })
  system?: string;

  @Field()
  value: string;
}

@ObjectType('Profile', { description: "A person's record in a project" })
export class ProfileModel {
  @Field(() => ID)
  id: string;

  @Field(() => ProfileResourceTypeEnum)
  resourceType: ProfileResourceType;

  @Field({ description: 'FHIR reference, e.g. Practitioner/<id>' })
  reference: string;

  @Field()
  givenName: string;

  @Field()
  familyName: string;

  @Field(() => String, { nullable: true })
  email: string | null;

  @Field(() => [IdentifierModel])
  identifiers: IdentifierModel[];
}

@ObjectType('ProjectMembership')
export class ProjectMembership {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field(() => ProfileModel)
  profile: ProfileModel;

  @Field(() => ID, { nullable: true, description: 'The actor, once the member has signed in' })
  actorId: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Trusted issuer the member is bound to: only its tokens find the member by externalId or fhirUser',
  })
  issuer: string | null;

  @Field(() => String, { nullable: true })
  externalId: string | null;

  @Field(() => String, { nullable: true })
  email: string | null;

  @Field()
  admin: boolean;

  @Field()
  active: boolean;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  @Field(() => Boolean, {
    nullable: true,
    description: 'On the result of inviteMember: whether a welcome email was sent',
  })
  inviteEmailSent?: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'On the result of inviteMember: the one-time set-password link of a person invited by email alone, only when no email carried it (email not configured, not asked for, or sending failed). Hand it over privately: it is shown once and replaces any earlier link of this invite',
  })
  setPasswordLink?: string | null;

  @Field(() => [MemberRecognition], {
    nullable: true,
    description:
      'On the result of inviteMember: every way the invited person will be recognised with the trusted issuers as they are now (empty: none yet)',
  })
  recognisedBy?: MemberRecognition[];
}

export function toProfileModel(p: ProfileEntity): ProfileModel {
  return {
    id: p.id,
    resourceType: p.resourceType,
    reference: `${p.resourceType}/${p.id}`,
    givenName: p.givenName,
    familyName: p.familyName,
    email: p.email,
    identifiers: p.identifiers,
  };
}

export function toMembershipModel(m: MembershipEntity): ProjectMembership {
  return {
    id: m.id,
    projectId: m.projectId,
    profile: toProfileModel(m.profile!),
    actorId: m.actorId,
    issuer: m.issuerName,
    externalId: m.externalId,
    email: m.email,
    admin: m.admin,
    active: m.active,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}
