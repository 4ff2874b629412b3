import { Context, Field, ObjectType, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { InjectRepository } from '@nestjs/typeorm';
import DataLoader from 'dataloader';
import { In, type Repository } from 'typeorm';
import { Actor } from 'src/actors/models/actor.model';
import { dbCall } from 'src/common/errors/db-errors';
import { ActorAttributesEntity } from 'src/sso/actor-attributes.entity';

@ObjectType('ActorAttribute', {
  description:
    'A value an SSO provider sent in a custom claim (e.g. TagoIO tags), as of the last sign-in',
})
export class ActorAttribute {
  @Field()
  name: string;

  @Field({ description: 'The claim value as JSON text (a string is quoted)' })
  value: string;
}

/** `Actor.attributes`: one query per request, whatever the number of actors (no N+1). */
@Resolver(() => Actor)
export class ActorAttributesResolver {
  private readonly perRequest = new WeakMap<object, DataLoader<string, Record<string, unknown>>>();

  constructor(
    @InjectRepository(ActorAttributesEntity)
    private readonly repo: Repository<ActorAttributesEntity>,
  ) {}

  @ResolveField(() => [ActorAttribute], {
    description: 'Attributes from its SSO provider’s custom claims (claim mappings), by name',
  })
  async attributes(
    @Parent() actor: Actor,
    @Context() ctx: { req: object },
  ): Promise<ActorAttribute[]> {
    const values = await this.loader(ctx.req).load(actor.id);
    return Object.keys(values)
      .sort()
      .map((name) => ({ name, value: JSON.stringify(values[name]) }));
  }

  private loader(req: object): DataLoader<string, Record<string, unknown>> {
    let loader = this.perRequest.get(req);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const rows = await dbCall(() => this.repo.findBy({ actorId: In([...ids]) }));
        return ids.map((id) => rows.find((r) => r.actorId === id)?.attributes ?? {});
      });
      this.perRequest.set(req, loader);
    }
    return loader;
  }
}
